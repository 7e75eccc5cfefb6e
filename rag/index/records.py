"""How the index's records are stored in Chroma's flat metadata, and read back.

A chunk (`ChunkRecord` → `Chunk`: sentences, offsets and entities), an article (`ArticleInfo`,
its byline included), the lexical index's row of a chunk, packed vectors, dates as sortable
integers and a `Filters` as a Chroma `where` clause. Pure functions: nothing here talks to Chroma
(`rag.index.store` does).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.index.lexical import Row
from rag.types import ArticleInfo, Byline, Chunk, Entity, Filters, Sentence

PIPELINE = "clean-7/chunk-4/entities-3"  # bump when cleaning or chunking changes: articles are then redone


def date_key(d: dt.date | None) -> int:
    return d.year * 10000 + d.month * 100 + d.day if d else 0


def date_from_key(k: int) -> dt.date | None:
    return dt.date(k // 10000, k // 100 % 100, k % 100) if k else None


def pack_vectors(vectors: np.ndarray) -> str:
    """Rows of unit vectors as one metadata string (float16, base64: 0.03 % off in cosine)."""
    return (
        base64.b64encode(np.ascontiguousarray(vectors, dtype="<f2").tobytes()).decode("ascii") + f":{vectors.shape[1]}"
    )


def unpack_vectors(packed: str) -> list[np.ndarray]:
    """The rows `pack_vectors` wrote, as float32 vectors ([] for an empty string)."""
    if not packed:
        return []
    data, _, dim = packed.rpartition(":")
    flat = np.frombuffer(base64.b64decode(data), dtype="<f2").astype(np.float32)
    return list(flat.reshape(-1, int(dim)))


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk as Chroma stores it: id, flat metadata (llama-index's layout) and text."""

    id: str
    metadata: dict[str, Any]
    text: str


def record_to_chunk(record: ChunkRecord) -> Chunk:
    """Rebuild a `Chunk` (sentences and offsets included) from its stored record."""
    meta = record.metadata
    sentences, pos = [], 0
    spans = json.loads(meta["sentences"])
    found = json.loads(meta.get("entities") or "[]") or [[] for _ in spans]
    for (start, end, length), ents in zip(spans, found):
        entities = tuple(Entity(a, b, label) for a, b, label in ents)
        sentences.append(Sentence(start=start, end=end, text=record.text[pos : pos + length], entities=entities))
        pos += length + 1
    return Chunk(id=record.id, article_id=meta["article_id"], n=int(meta["n"]), sentences=tuple(sentences))


def chroma_where(filters: Filters) -> dict[str, Any] | None:
    """`filters` as a Chroma `where` clause on the chunks' metadata (None: no filter)."""
    if filters.empty:
        return None
    items: list[dict[str, Any]] = []
    if filters.sources:
        items.append({"source": {"$in": list(filters.sources)}})
    if filters.date_from:
        items.append({"date": {"$gte": date_key(filters.date_from)}})
    if filters.date_to:
        items.append({"date": {"$lte": date_key(filters.date_to)}})
    if filters.date_from or filters.date_to:
        items.append({"date": {"$gt": 0}})  # an undated article matches no date range
    return items[0] if len(items) == 1 else {"$and": items}


def lexical_row(chunk_id: str, meta: dict[str, Any], text: str) -> Row:
    """What the lexical index keeps of a chunk: its headline and text are what BM25 searches (a
    title made from the first sentence is left out: it would count that sentence's words twice)."""
    title = "" if meta.get("title_derived") else meta.get("title", "")
    return Row(chunk_id, meta["article_id"], meta.get("version", ""), meta.get("source", ""), int(meta.get("date", 0)),
               f"{title} {text}")  # fmt: skip


def chunk_meta(info: ArticleInfo, chunk: Chunk) -> dict[str, Any]:
    return {
        "article_id": info.id,
        "source": info.source,
        "title": info.title,
        "title_derived": info.title_derived,
        "date": date_key(info.date),
        "n": chunk.n,
        "version": info.version,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": json.dumps([[s.start, s.end, len(s.text)] for s in chunk.sentences]),
        "entities": json.dumps([[[e.start, e.end, e.label] for e in s.entities] for s in chunk.sentences]),
    }


def article_meta(info: ArticleInfo) -> dict[str, Any]:
    return {
        "source": info.source,
        "title": info.title,
        "title_derived": info.title_derived,
        "author": info.author or "",
        "date": date_key(info.date),
        "outlet": info.outlet or "",
        "content_hash": info.content_hash,
        "pipeline": PIPELINE,
        "chunks": info.chunks,
        "duplicates": ",".join(info.duplicates),
        "version": info.version,
        "byline": json.dumps(_byline_fields(info.byline)) if info.byline else "",
    }


def _byline_fields(b: Byline) -> list[Any]:
    return [b.start, b.end, b.text, [[e.start, e.end, e.label] for e in b.entities]]


def _byline(raw: str) -> Byline | None:
    if not raw:
        return None
    start, end, text, marks = json.loads(raw)
    return Byline(int(start), int(end), text, tuple(Entity(a, b, label) for a, b, label in marks))


def article_info(article_id: str, m: dict[str, Any]) -> ArticleInfo:
    return ArticleInfo(
        id=article_id,
        source=m["source"],
        title=m["title"],
        content_hash=m.get("content_hash", ""),
        chunks=int(m.get("chunks", 0)),
        author=m.get("author") or None,
        date=date_from_key(int(m.get("date", 0))),
        outlet=m.get("outlet") or None,
        duplicates=tuple(d for d in m.get("duplicates", "").split(",") if d),
        version=m.get("version", ""),
        byline=_byline(m.get("byline") or ""),
        title_derived=bool(m.get("title_derived")),
    )


@dataclass(frozen=True)
class ArticleState:
    """What ingest needs to know of a stored article record."""

    content_hash: str
    pipeline: str
    source: str
    version: str = ""
    stale: bool = False  # another version's chunks may still be stored (a write was cut short)
    removed: bool = False  # a removal was cut short


def record_state(m: dict[str, Any]) -> ArticleState:
    """What ingest needs of a stored article record (`m`: its metadata)."""
    return ArticleState(
        content_hash=m.get("content_hash", ""),
        pipeline=m.get("pipeline", ""),
        source=m.get("source", ""),
        version=m.get("version", ""),
        stale=bool(m.get("stale")),
        removed=bool(m.get("removed")),
    )


def duplicates_of(m: dict[str, Any]) -> set[str]:
    """The ids an article record (`m`: its metadata) links as its duplicates."""
    return {d for d in (m.get("duplicates") or "").split(",") if d}


def duplicates_meta(ids: set[str]) -> dict[str, str]:
    """The metadata update that records `ids` as an article's duplicates."""
    return {"duplicates": ",".join(sorted(ids))}


@dataclass(frozen=True)
class ArticleWrite:
    """One article version to write: its record, original text, chunks (entities filled in), the
    vectors of its chunks' sentences in order, its article vector, its byline statement's vector
    and the facts near-duplicate checks compare (`rag.ingest.dedupe.facts`)."""

    info: ArticleInfo
    text: str
    chunks: Sequence[Chunk]
    sentence_vectors: np.ndarray
    article_vector: np.ndarray
    byline_vector: np.ndarray | None = None
    facts: frozenset[str] = frozenset()


def write_meta(w: ArticleWrite) -> dict[str, Any]:
    """An article version's record as written: marked `stale` until its other versions' chunks
    are gone, with the facts near-duplicate checks compare and its byline statement's vector."""
    vector = w.byline_vector if w.info.byline is not None else None
    return article_meta(w.info) | {
        "stale": True,
        "facts": json.dumps(sorted(w.facts)),
        "byline_vector": pack_vectors(vector[None, :]) if vector is not None else "",
    }


@dataclass(frozen=True)
class Neighbour:
    """A stored article near a vector: its record, the cosine, and the facts it was written with."""

    info: ArticleInfo
    cosine: float
    facts: frozenset[str]


# chunk metadata Chroma does not search (only the title is)
_NOT_SEARCHED = ["article_id", "source", "date", "n", "version", "start", "end", "sentences", "entities", "title_derived"]  # fmt: skip


@dataclass(frozen=True)
class ChunkRows:
    """Chunks as the chunks collection stores them (one list entry per chunk), and their rows of
    the lexical index."""

    ids: list[str]
    embeddings: list[list[float]]
    metadatas: list[dict[str, Any]]
    documents: list[str]
    lexical: list[Row]


def chunk_rows(writes: Sequence[ArticleWrite]) -> ChunkRows:
    """The chunks of `writes` in the layout llama-index's `ChromaVectorStore` writes (a node per
    chunk, its embedding the normalised mean of its sentences' vectors; the sentence vectors
    themselves are not stored: no question reads them)."""
    from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    out = ChunkRows([], [], [], [], [])
    for w in writes:
        offset = 0
        for chunk in w.chunks:
            vecs = w.sentence_vectors[offset : offset + len(chunk.sentences)]
            offset += len(chunk.sentences)
            mean = vecs.mean(axis=0)
            node = TextNode(
                id_=chunk.id,
                text=chunk.text,
                metadata=chunk_meta(w.info, chunk),
                embedding=(mean / max(float(np.linalg.norm(mean)), 1e-12)).tolist(),
                excluded_embed_metadata_keys=_NOT_SEARCHED,
                excluded_llm_metadata_keys=_NOT_SEARCHED,
            )
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=w.info.id)
            out.ids.append(node.node_id)
            out.embeddings.append(node.get_embedding())
            out.metadatas.append(node_to_metadata_dict(node, remove_text=True, flat_metadata=True))
            out.documents.append(node.get_content(metadata_mode=MetadataMode.NONE))
            out.lexical.append(lexical_row(node.node_id, node.metadata, chunk.text))
    return out
