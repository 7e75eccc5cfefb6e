"""Chroma, and nothing else talks to it: two collections that make one index.

- `{name}-chunks`: the retrievable chunks, in the layout llama-index's `ChromaVectorStore`
  writes (nodes carry article id, source, title, date and sentence offsets). Each chunk's
  metadata also carries its sentences' vectors (`vectors`: float16, base64), read back with the
  chunk to rank answer sentences without re-embedding them at question time.
- `{name}-articles`: one record per article: the original text (the ground truth every quote is
  checked against), metadata, content hash, an article vector (for near-duplicate links) and
  the byline statement's vector.

Sentence vectors are not a collection of their own (layout 1 had `{name}-sentences`): Chroma
builds an HNSW graph over every embedding it holds, and nothing searches sentences by vector,
so that graph cost ~1.5 ms per sentence at ingest (nine in ten of all items written) and had to
be loaded into memory (1.5 KB a sentence) on the first question, for reads by id.

The chunks collection's metadata records the embedding model; opening an index with another
model is refused. Local (`chromadb.PersistentClient` under `index_dir`) and server mode
(`chromadb.HttpClient`, when `CHROMA_HOST` is set) run the same code. Telemetry is off.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import (
    IndexBusyError,
    IndexChangedError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexWriteError,
    StoreUnavailableError,
)
from rag.index.lexical import LexicalIndex, Row
from rag.index.terms import Terms
from rag.types import ArticleInfo, Byline, Chunk, Entity, Filters, Sentence

SCHEMA = 2  # the collections' layout; an index of another layout is refused at open
PIPELINE = "clean-6/chunk-2/entities-3"  # bump when cleaning or chunking changes: articles are then redone
# metadata Chroma does not search (only the title is)
_NOT_SEARCHED = ["article_id", "source", "date", "n", "version", "start", "end", "sentences", "entities", "title_derived"]  # fmt: skip


# Rows per Chroma read or delete. One call over more rows than SQLite's variable limit (32,766)
# fails ("too many SQL variables"), locally and on a server, so every read of a whole collection
# and every call with a long id list goes in pages of this size.
PAGE = 5000


def lexicon_path(settings: Settings) -> Any:
    """The lexical index's file in the index folder: one per collection, and per server in server mode."""
    where = f"{settings.chroma_host}-{settings.chroma_port}-" if settings.remote else ""
    return settings.index_dir / f"lexical-{where}{settings.collection}.sqlite3"


def pages(collection: Any, include: list[str], where: dict[str, Any] | None = None, page: int = PAGE) -> Iterator[Any]:
    """`collection.get(...)` of every matching row, one page of `page` rows after another."""
    offset = 0
    while True:
        got = collection.get(include=include, where=where, limit=page, offset=offset)
        yield got
        if len(got["ids"]) < page:
            return
        offset += page


def read_all(collection: Any, include: list[str], where: dict[str, Any] | None = None, page: int = PAGE) -> dict:
    """`collection.get(...)` of every matching row, read `page` rows at a time."""
    out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
    for got in pages(collection, include, where, page):
        _extend(out, got)
    return out


def read_ids(collection: Any, ids: Sequence[str], include: list[str], page: int = PAGE) -> dict:
    """`collection.get(ids=ids, ...)`, `page` ids at a time."""
    out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
    ids = list(ids)
    for i in range(0, len(ids), page):
        _extend(out, collection.get(ids=ids[i : i + page], include=include))
    return out


def _extend(out: dict[str, list[Any]], got: Any) -> None:
    """Append one page of a `get()` result to `out`, key by key."""
    for key in out:
        out[key] += list(got[key] if got.get(key) is not None else [])


@dataclass(frozen=True)
class ArticleState:
    """What ingest needs to know of a stored article record."""

    content_hash: str
    pipeline: str
    source: str
    version: str = ""
    stale: bool = False  # another version's chunks may still be stored (a write was cut short)
    removed: bool = False  # a removal was cut short


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


@dataclass(frozen=True)
class Neighbour:
    """A stored article near a vector: its record, the cosine, and the facts it was written with."""

    info: ArticleInfo
    cosine: float
    facts: frozenset[str]


def _parts(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


@contextlib.contextmanager
def _chroma_errors(settings: Settings) -> Iterator[None]:
    """Chroma's errors on a read path, as `IndexChangedError` (the caller reopens and retries)."""
    from chromadb.errors import ChromaError

    try:
        yield
    except ChromaError as e:
        raise IndexChangedError(
            f"The index at {_where(settings)} could not be read ({type(e).__name__}: {e}); it may be changing: ask again"
        ) from e


def date_key(d: dt.date | None) -> int:
    return d.year * 10000 + d.month * 100 + d.day if d else 0


def _date_from_key(k: int) -> dt.date | None:
    return dt.date(k // 10000, k // 100 % 100, k % 100) if k else None


class Store:
    """One index: open with `Store.open(settings, model_id, create=...)`."""

    def __init__(self, client: Any, settings: Settings, model_id: str, page: int = PAGE) -> None:
        self.settings = settings
        self.page = page  # rows per read of a whole collection or a long id list
        self.model_id = model_id
        self._client = client
        meta = {"embed_model": model_id, "schema": SCHEMA}
        cosine = {"hnsw": {"space": "cosine"}}
        self._names = {kind: f"{settings.collection}-{kind}" for kind in ("chunks", "articles")}
        self._chunks, self._articles = (
            client.get_or_create_collection(n, metadata=meta, configuration=cosine, embedding_function=None)
            for n in self._names.values()
        )
        self._lexicon: LexicalIndex | None = None
        self._lexicon_lock = threading.Lock()
        self._writer: int | None = None  # the thread holding the local write lock
        self._lexicon_checked = False  # its generation was compared with the store's

    # opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, model_id: str, *, create: bool, page: int = PAGE) -> Store:
        """Open the index; `create=False` requires it to exist and match `model_id`."""
        client = _client(settings, create)
        name = f"{settings.collection}-chunks"
        try:
            existing = {c.name if hasattr(c, "name") else str(c) for c in client.list_collections()}
        except Exception as e:  # chromadb raises many types for a damaged database
            raise IndexCorruptError(_corrupt_message(settings, e)) from e
        where = _where(settings)
        if name not in existing:
            if not create:
                raise IndexNotFoundError(f"No index at {where} — run: briefing ingest seeds/")
        else:
            meta = client.get_collection(name, embedding_function=None).metadata or {}
            built_with = meta.get("embed_model")
            if meta.get("schema") != SCHEMA:
                raise IndexCorruptError(
                    f"The index at {where} has layout version {meta.get('schema')!r}; this version of Briefing QA "
                    f"reads version {SCHEMA}. Rebuild it: briefing ingest --rebuild seeds/"
                )
            if built_with != model_id:
                raise IndexCorruptError(
                    f"The index at {where} was built with the embedding model {built_with!r}, but this "
                    f"run uses {model_id!r}. Rebuild it: briefing ingest --rebuild seeds/"
                )
        return cls(client, settings, model_id, page)

    @classmethod
    def delete_index(cls, settings: Settings) -> None:
        """Drop the collections (for `ingest --rebuild`), layout 1's sentences collection too."""
        client = _client(settings, create=True)
        for kind in ("chunks", "sentences", "articles"):
            with contextlib.suppress(Exception):  # an absent collection is fine
                client.delete_collection(f"{settings.collection}-{kind}")
        path = lexicon_path(settings)
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)

    # the generation token: how readers in other processes notice a write -----------------
    def generation(self) -> str:
        """A token that every committed write changes (kept in the articles collection's metadata,
        so processes sharing a local folder or a Chroma server all see it)."""
        return str(self._meta().get("generation", ""))

    def _meta(self) -> dict[str, Any]:
        """The articles collection's metadata, as stored now (not as this process opened it)."""
        try:
            return dict(self._client.get_collection(self._names["articles"], embedding_function=None).metadata or {})
        except Exception as e:  # noqa: BLE001 - a collection dropped by `ingest --rebuild` elsewhere
            raise IndexChangedError(
                f"The index at {_where(self.settings)} changed while it was read ({e}); ask again."
            ) from e

    def _set_meta(self, **changes: Any) -> None:
        meta = self._meta()
        meta.update(embed_model=self.model_id, schema=SCHEMA, **changes)
        self._articles.modify(metadata=meta)

    def bump(self) -> str:
        """Record that the index changed; returns the new token."""
        token = uuid.uuid4().hex
        self._set_meta(generation=token)
        self.lexicon().set_generation(token)  # a crash before this line: the next reader rebuilds it
        return token

    def interrupted_removals(self) -> list[str]:
        """The articles whose removal a crash cut short. The records are searched only when the
        index says a removal may be unfinished: `remove_articles` sets that flag before it marks
        any record and clears it when it is done (a filtered read of every record took 0.3–0.5 s
        at 15k articles, on every ingest). An index written before the flag existed is searched once."""
        found = self._marked_removed()
        if found is None:
            return []
        if not found:
            self._set_meta(removing=0)
        return found

    def _marked_removed(self) -> list[str] | None:
        """The records marked by a removal, searched for only while the index says one may be
        unfinished (None when it says none is)."""
        if not self._meta().get("removing", 1):
            return None
        return sorted(self.article_state(where={"removed": True}))

    @contextlib.contextmanager
    def write_lock(self, wait: float = 600.0) -> Iterator[None]:
        """One writer at a time on a local index, across processes (a Chroma server serialises
        writes itself). Raises `IndexBusyError` after `wait` seconds, and turns a failure of
        Chroma (or its SQLite file) while writing into `IndexWriteError`."""
        if self._writer == threading.get_ident():  # this thread holds it already (a rebuild inside a write)
            yield
            return
        with self._write_errors():
            if self.settings.remote:
                yield
                return
            with self._local_lock(wait):
                self._writer = threading.get_ident()
                try:
                    yield
                finally:
                    self._writer = None

    @contextlib.contextmanager
    def _write_errors(self) -> Iterator[None]:
        import sqlite3

        from chromadb.errors import ChromaError

        try:
            yield
        except (ChromaError, sqlite3.Error) as e:
            raise IndexWriteError(
                f"Writing to the index at {_where(self.settings)} failed ({type(e).__name__}: {e}). Articles "
                "written before the failure are kept and the rest are not half-written: check free disk space "
                "and permissions (or the Chroma server), then run the same ingest again."
            ) from e

    @contextlib.contextmanager
    def _local_lock(self, wait: float) -> Iterator[None]:
        import fcntl

        path = self.settings.index_dir / ".write-lock"
        with open(path, "a+b") as f:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexBusyError(
                            f"Another process has been writing to {_where(self.settings)} for {wait:.0f} s; "
                            "try again when it is done"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def close(self) -> None:
        """Release the client (a local index is read from disk again by the next `Store.open`)."""
        with contextlib.suppress(Exception):
            self._client.close()
        if self._lexicon is not None:
            self._lexicon.close()

    # articles --------------------------------------------------------------------------------
    def articles(self) -> dict[str, ArticleInfo]:
        """The articles readers see (not those being removed)."""
        with _chroma_errors(self.settings):
            got = read_all(self._articles, ["metadatas"], page=self.page)
        return {i: _info(i, m) for i, m in zip(got["ids"], got["metadatas"]) if not m.get("removed")}

    def article_count(self) -> int:
        """How many articles readers see, counted without reading the records (the marked records
        of an unfinished removal are read and left out only while the index says one may be)."""
        with _chroma_errors(self.settings):
            return self._articles.count() - len(self._marked_removed() or [])

    def article_infos(self, ids: Sequence[str]) -> dict[str, ArticleInfo]:
        """The records of the articles `ids` that readers see (missing ids are left out)."""
        return {i: info for i, (info, _) in self.article_records(ids).items()}

    def article_records(self, ids: Sequence[str]) -> dict[str, tuple[ArticleInfo, np.ndarray | None]]:
        """The records of the articles `ids` that readers see, each with the vector of its byline
        statement (None without a byline), in one read by id (missing ids are left out)."""
        if not ids:
            return {}
        with _chroma_errors(self.settings):
            got = read_ids(self._articles, list(dict.fromkeys(ids)), ["metadatas"], page=self.page)
        return {
            i: (_info(i, m), next(iter(unpack_vectors(m.get("byline_vector") or "")), None))
            for i, m in zip(got["ids"], got["metadatas"])
            if not m.get("removed")
        }

    def article_state(
        self, ids: Sequence[str] | None = None, *, where: dict[str, Any] | None = None
    ) -> dict[str, ArticleState]:
        """The records of `ids` (default: every record, or those matching `where`), with what
        ingest needs to skip, redo or finish them."""
        if ids is not None:
            got = read_ids(self._articles, list(ids), ["metadatas"], page=self.page)
        else:
            got = read_all(self._articles, ["metadatas"], where=where, page=self.page)
        return {
            i: ArticleState(
                content_hash=m.get("content_hash", ""),
                pipeline=m.get("pipeline", ""),
                source=m.get("source", ""),
                version=m.get("version", ""),
                stale=bool(m.get("stale")),
                removed=bool(m.get("removed")),
            )  # fmt: skip
            for i, m in zip(got["ids"], got["metadatas"])
        }

    def article_texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Original texts, the ground truth for quote verification."""
        if not ids:
            return {}
        with _chroma_errors(self.settings):
            got = read_ids(self._articles, ids, ["documents"], page=self.page)
        return dict(zip(got["ids"], got["documents"]))

    def nearest_articles(self, vector: np.ndarray, k: int = 5) -> list[Neighbour]:
        """Articles whose article vectors are closest to `vector` (Chroma's ANN), nearest first."""
        n = min(k, self._articles.count())
        if n == 0:
            return []
        got = self._articles.query(query_embeddings=[vector.tolist()], n_results=n, include=["metadatas", "distances"])
        return [
            Neighbour(_info(i, m), 1.0 - float(d), frozenset(json.loads(m.get("facts") or "[]")))
            for i, m, d in zip(got["ids"][0], got["metadatas"][0], got["distances"][0])
            if not m.get("removed")
        ]

    # writing ---------------------------------------------------------------------------------
    def write_articles(self, writes: Sequence[ArticleWrite]) -> None:
        """Write a version of each article so that a reader sees its old version or its new one,
        whole; a batch of articles costs the same few Chroma calls as one.

        1. The new versions' chunks, with their sentence vectors, under ids that carry the version
           (the old versions' stay where they are, still the ones readers use).
        2. The article records: text, metadata, facts, byline vector and `version`, in one
           upsert. This is the switch.
        3. The other versions' chunks are deleted, then the records' `stale` marks.
        A crash before 2 leaves the old versions answerable and the old hashes in place, so the
        next ingest redoes the articles; a crash within 3 leaves unseen chunks that the next
        ingest prunes (`ArticleState.stale`).
        """
        from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
        from llama_index.core.vector_stores.utils import node_to_metadata_dict

        if not writes:
            return
        nodes, packed, chunks = [], [], []
        for w in writes:
            offset = 0
            for chunk in w.chunks:
                vecs = w.sentence_vectors[offset : offset + len(chunk.sentences)]
                offset += len(chunk.sentences)
                mean = vecs.mean(axis=0)
                node = TextNode(
                    id_=chunk.id,
                    text=chunk.text,
                    metadata=_chunk_meta(w.info, chunk),
                    embedding=(mean / max(float(np.linalg.norm(mean)), 1e-12)).tolist(),
                    excluded_embed_metadata_keys=_NOT_SEARCHED,
                    excluded_llm_metadata_keys=_NOT_SEARCHED,
                )
                node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=w.info.id)
                nodes.append(node)
                packed.append(pack_vectors(vecs))
                chunks.append(chunk)
        for part in range(0, len(nodes), self.page):
            # ChromaVectorStore.add() calls collection.add(), which keeps an existing id's old
            # content; a rewritten chunk must overwrite in place, so upsert the same payload. The
            # sentence vectors go beside llama-index's fields, not into the node's own metadata
            # (which llama-index copies once more into `_node_content`).
            some = nodes[part : part + self.page]
            self._chunks.upsert(
                ids=[n.node_id for n in some],
                embeddings=[n.get_embedding() for n in some],
                metadatas=[
                    node_to_metadata_dict(n, remove_text=True, flat_metadata=True) | {"vectors": v}
                    for n, v in zip(some, packed[part : part + self.page])
                ],
                documents=[n.get_content(metadata_mode=MetadataMode.NONE) for n in some],
            )
        self.lexicon().add([_lexical_row(n.node_id, n.metadata, c.text) for n, c in zip(nodes, chunks)])
        self._articles.upsert(
            ids=[w.info.id for w in writes],
            documents=[w.text for w in writes],
            embeddings=[w.article_vector.tolist() for w in writes],
            metadatas=[
                _article_meta(w.info) | {
                    "stale": True,
                    "facts": json.dumps(sorted(w.facts)),
                    "byline_vector": pack_vectors(w.byline_vector[None, :])
                    if w.byline_vector is not None and w.info.byline is not None else "",
                }
                for w in writes
            ],
        )  # fmt: skip
        self._prune({w.info.id: {c.id for c in w.chunks} for w in writes})

    def prune(self, article_id: str) -> None:
        """Delete the article's chunks of versions other than its record's, then clear `stale`."""
        self._prune({article_id: None})

    def _prune(self, keep: dict[str, set[str] | None]) -> None:
        """For each article, delete its chunks other than `keep[id]` (None: other than those of its
        record's current version), then clear the `stale` marks: four Chroma calls in all."""
        records = read_ids(self._articles, sorted(keep), ["metadatas"], page=self.page)
        versions = {i: m.get("version", "") for i, m in zip(records["ids"], records["metadatas"])}
        if not versions:
            return
        stale, kept = [], {i: [] for i in versions}
        for part in _parts(sorted(versions), self.page):
            got = read_all(self._chunks, ["metadatas"], where={"article_id": {"$in": part}}, page=self.page)
            for i, m in zip(got["ids"], got["metadatas"]):
                article, wanted = m["article_id"], keep[m["article_id"]]
                current = i in wanted if wanted is not None else m.get("version") == versions[article]
                if current:
                    kept[article].append(i)
                else:
                    stale.append(i)
        for part in _parts(sorted(stale), self.page):
            self._chunks.delete(ids=part)
        for article, ids in kept.items():
            self.lexicon().keep_only(article, ids)
        for part in _parts(sorted(versions), self.page):
            self._articles.update(ids=part, metadatas=[{"stale": False}] * len(part))

    def remove_articles(self, ids: Sequence[str]) -> None:
        """Remove articles: marked first (readers stop seeing them), then their chunks, duplicate
        links and records. A crash part-way leaves a mark the next ingest finishes."""
        ids = sorted(set(ids))
        if not ids:
            return
        got = read_ids(self._articles, ids, ["metadatas"], page=self.page)
        if not got["ids"]:
            return
        found = list(got["ids"])
        pages = list(_parts(found, self.page))
        self._set_meta(removing=1)  # before any mark: `interrupted_removals` looks for marks while it is set
        for part in pages:
            self._articles.update(ids=part, metadatas=[{"removed": True}] * len(part))
        for part in pages:
            where = {"article_id": {"$in": part}}
            self._chunks.delete(where=where)
            self.lexicon().remove_articles(part)
        gone = set(found)
        linked = {d for m in got["metadatas"] for d in (m.get("duplicates") or "").split(",") if d} - gone
        if linked:
            others = read_ids(self._articles, sorted(linked), ["metadatas"], page=self.page)
            self._articles.update(
                ids=others["ids"],
                metadatas=[
                    {"duplicates": ",".join(d for d in (m.get("duplicates") or "").split(",") if d and d not in gone)}
                    for m in others["metadatas"]
                ],
            )
        for part in pages:
            self._articles.delete(ids=part)
        self._set_meta(removing=0)

    def link_duplicates(self, article_id: str, others: Sequence[str]) -> None:
        """Record `others` as duplicates of `article_id`, and the reverse links too."""
        wanted = sorted({article_id, *others})
        got = self._articles.get(ids=wanted, include=["metadatas"])
        current = {i: set((m.get("duplicates") or "").split(",")) - {""} for i, m in zip(got["ids"], got["metadatas"])}
        for a, bs in [(article_id, others)] + [(o, [article_id]) for o in others]:
            if a in current:
                current[a] |= set(bs) - {a}
        ids = sorted(current)
        self._articles.update(ids=ids, metadatas=[{"duplicates": ",".join(sorted(current[i]))} for i in ids])

    # reading for retrieval -------------------------------------------------------------------
    def lexicon(self) -> LexicalIndex:
        """The lexical (BM25) index of this store's chunks, rebuilt from the store first when it
        does not reflect the store's generation at its first use (see `rag.index.lexical`).
        Readers open a new `Store` when another process has written (`BriefingQA._fresh`), and
        this store's own writes keep the two in step (`bump`)."""
        with self._lexicon_lock:
            if self._lexicon is None:
                self.settings.index_dir.mkdir(parents=True, exist_ok=True)
                try:
                    self._lexicon = LexicalIndex(lexicon_path(self.settings), Terms())
                except sqlite3.DatabaseError as e:
                    raise IndexCorruptError(
                        f"The lexical index {lexicon_path(self.settings)} cannot be read ({e}). "
                        "Rebuild the index: briefing ingest --rebuild seeds/"
                    ) from e
            lexicon, checked = self._lexicon, self._lexicon_checked
        if not checked:  # once per open store: a write by another process opens a new one
            if lexicon.generation != self.generation():
                self._rebuild_lexicon(lexicon)
            self._lexicon_checked = True
        return lexicon

    def _rebuild_lexicon(self, lexicon: LexicalIndex) -> None:
        """Index every chunk of the store again (a page at a time), under the write lock."""
        with self.write_lock():
            token = self.generation()
            if lexicon.generation == token:
                return  # another process rebuilt it, or the writer we waited for updated it
            lexicon.clear()
            with _chroma_errors(self.settings):
                for got in pages(self._chunks, ["documents", "metadatas"], page=self.page):
                    lexicon.add([_lexical_row(*row) for row in zip(got["ids"], got["metadatas"], got["documents"])])
            lexicon.set_generation(token)

    def chunk_records(self, ids: Sequence[str]) -> dict[str, ChunkRecord]:
        """The stored chunks of `ids`, by id; missing ids are left out."""
        if not ids:
            return {}
        with _chroma_errors(self.settings):
            got = read_ids(self._chunks, ids, ["documents", "metadatas"], page=self.page)
        return {i: ChunkRecord(i, m, t) for i, m, t in zip(got["ids"], got["metadatas"], got["documents"])}

    def nodes(self) -> list[Any]:
        """All chunk nodes (llama-index `TextNode`s), read page by page: for tools and tests; no
        question or ingest reads them all."""
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        with _chroma_errors(self.settings):
            got = read_all(self._chunks, ["documents", "metadatas"], page=self.page)
        return [metadata_dict_to_node(m, text=t) for m, t in zip(got["metadatas"], got["documents"])]

    def dense(self, query_vector: np.ndarray, k: int, filters: Filters) -> list[tuple[ChunkRecord, float]]:
        """Top-k stored chunks by cosine similarity, as (chunk record, cosine): one Chroma query.

        Chroma is asked directly, not through llama-index's `ChromaVectorStore.query`: that would
        import llama-index into every process that answers a question (about 2 s of its cold
        start) for one call; the collection and its payload are the ones llama-index writes."""
        with _chroma_errors(self.settings):
            got = self._chunks.query(
                query_embeddings=[query_vector.tolist()],
                n_results=k,
                where=chroma_where(filters),
                include=["documents", "metadatas", "distances"],
            )
        rows = zip(got["ids"][0], got["metadatas"][0], got["documents"][0], got["distances"][0])
        return [(ChunkRecord(i, m, t), 1.0 - float(d)) for i, m, t, d in rows]  # cosine space: distance = 1 - cos

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of the sentences of `chunk_ids`, keyed `"{chunk_id}.{k}"` (retrieval reads
        them with the chunks; this is for tools and tests)."""
        with _chroma_errors(self.settings):
            got = read_ids(self._chunks, list(dict.fromkeys(chunk_ids)), ["metadatas"], page=self.page)
        return {
            f"{i}.{k}": v
            for i, m in zip(got["ids"], got["metadatas"])
            for k, v in enumerate(unpack_vectors(m.get("vectors") or ""))
        }


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


def _lexical_row(chunk_id: str, meta: dict[str, Any], text: str) -> Row:
    """What the lexical index keeps of a chunk: its headline and text are what BM25 searches (a
    title made from the first sentence is left out: it would count that sentence's words twice)."""
    title = "" if meta.get("title_derived") else meta.get("title", "")
    return Row(chunk_id, meta["article_id"], meta.get("version", ""), meta.get("source", ""), int(meta.get("date", 0)),
               f"{title} {text}")  # fmt: skip


def _chunk_meta(info: ArticleInfo, chunk: Chunk) -> dict[str, Any]:
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


def byline_id(info: ArticleInfo) -> str:
    """The id of the vector of an article's byline statement, among its sentences' vectors."""
    return f"{info.id}@{info.version}#byline"


def _article_meta(info: ArticleInfo) -> dict[str, Any]:
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


def _info(article_id: str, m: dict[str, Any]) -> ArticleInfo:
    return ArticleInfo(
        id=article_id,
        source=m["source"],
        title=m["title"],
        content_hash=m.get("content_hash", ""),
        chunks=int(m.get("chunks", 0)),
        author=m.get("author") or None,
        date=_date_from_key(int(m.get("date", 0))),
        outlet=m.get("outlet") or None,
        duplicates=tuple(d for d in m.get("duplicates", "").split(",") if d),
        version=m.get("version", ""),
        byline=_byline(m.get("byline") or ""),
        title_derived=bool(m.get("title_derived")),
    )


def _where(settings: Settings) -> str:
    if settings.remote:
        return f"Chroma server {settings.chroma_host}:{settings.chroma_port} (collection {settings.collection!r})"
    return f"{settings.index_dir}/"


def _corrupt_message(settings: Settings, e: Exception) -> str:
    return (
        f"The index at {_where(settings)} cannot be read ({type(e).__name__}: {e}). "
        f"Delete it and rebuild: briefing ingest --rebuild seeds/"
    )


def _client(settings: Settings, create: bool) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.remote:
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host or "", port=settings.chroma_port, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as e:  # noqa: BLE001 - connection errors come in many types
            raise StoreUnavailableError(
                f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({e}). "
                "Start it (chroma run --path index --port PORT) or unset CHROMA_HOST to use the local index."
            ) from e
        return client
    path = settings.index_dir
    if not (path / "chroma.sqlite3").exists() and not create:
        raise IndexNotFoundError(f"No index at {path}/ — run: briefing ingest seeds/")
    if path.exists() and not path.is_dir():
        raise IndexCorruptError(f"{path} is a file, not an index folder — move it away or set BRIEFING_INDEX_DIR")
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:  # chromadb raises many types for a damaged database
        raise IndexCorruptError(_corrupt_message(settings, e)) from e
