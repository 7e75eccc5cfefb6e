"""Chroma, and nothing else talks to it: two collections that make one index.

- `{name}-chunks`: the retrievable chunks, in the layout llama-index's `ChromaVectorStore`
  writes (nodes carry article id, source, title, date and sentence offsets); a chunk's vector is
  the mean of its sentences' vectors. (Indexes written before December 2026 also carry those
  sentence vectors in each chunk's metadata, `vectors`; nothing reads them.)
- `{name}-articles`: one record per article: the original text (the ground truth every quote is
  checked against), metadata, content hash, an article vector (for near-duplicate links) and
  the byline statement's vector.

The chunks collection's metadata records the embedding model; opening an index with another
model is refused. Local (`chromadb.PersistentClient` under `index_dir`) and server mode
(`chromadb.HttpClient`, when `CHROMA_HOST` is set) run the same code. Telemetry is off.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import IndexChangedError
from rag.index.chroma import (
    PAGE,
    checked_client,
    chroma_errors,
    drop_collections,
    pages,
    parts,
    read_all,
    read_ids,
    where,
)
from rag.index.files import file_lock, open_lexicon, remove_lexicon, write_errors
from rag.index.lexical import LexicalIndex
from rag.index.records import (
    ArticleState,
    ArticleWrite,
    ChunkRecord,
    Neighbour,
    article_info,
    chroma_where,
    chunk_rows,
    duplicates_meta,
    duplicates_of,
    lexical_row,
    record_state,
    unpack_vectors,
    write_meta,
)
from rag.types import ArticleInfo, Filters

log = logging.getLogger(__name__)

SCHEMA = 2  # the collections' layout; an index of another layout is refused at open


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
        chroma = checked_client(
            settings, f"{settings.collection}-chunks", {"embed_model": model_id, "schema": SCHEMA}, create
        )
        return cls(chroma, settings, model_id, page)

    @classmethod
    def delete_index(cls, settings: Settings) -> None:
        """Drop the collections (layout 1's sentences too) and the lexical index: `ingest --rebuild`."""
        drop_collections(settings, [f"{settings.collection}-{kind}" for kind in ("chunks", "sentences", "articles")])
        remove_lexicon(settings)

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
                f"The index at {where(self.settings)} changed while it was read ({e}); ask again."
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
        with write_errors(self.settings):
            if self.settings.remote:
                yield
                return
            with file_lock(self.settings, wait):
                self._writer = threading.get_ident()
                try:
                    yield
                finally:
                    self._writer = None

    def close(self) -> None:
        """Release the client (a local index is read from disk again by the next `Store.open`)."""
        with contextlib.suppress(Exception):
            self._client.close()
        if self._lexicon is not None:
            self._lexicon.close()

    # articles --------------------------------------------------------------------------------
    def articles(self) -> dict[str, ArticleInfo]:
        """The articles readers see (not those being removed)."""
        with chroma_errors(self.settings):
            got = read_all(self._articles, ["metadatas"], page=self.page)
        return {i: article_info(i, m) for i, m in zip(got["ids"], got["metadatas"]) if not m.get("removed")}

    def article_count(self) -> int:
        """How many articles readers see, counted without reading the records (the marked records
        of an unfinished removal are read and left out only while the index says one may be)."""
        with chroma_errors(self.settings):
            return self._articles.count() - len(self._marked_removed() or [])

    def article_infos(self, ids: Sequence[str]) -> dict[str, ArticleInfo]:
        """The records of the articles `ids` that readers see (missing ids are left out)."""
        return {i: info for i, (info, _) in self.article_records(ids).items()}

    def article_records(self, ids: Sequence[str]) -> dict[str, tuple[ArticleInfo, np.ndarray | None]]:
        """The records of the articles `ids` that readers see, each with the vector of its byline
        statement (None without a byline), in one read by id (missing ids are left out)."""
        if not ids:
            return {}
        with chroma_errors(self.settings):
            got = read_ids(self._articles, list(dict.fromkeys(ids)), ["metadatas"], page=self.page)
        return {
            i: (article_info(i, m), next(iter(unpack_vectors(m.get("byline_vector") or "")), None))
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
        return {i: record_state(m) for i, m in zip(got["ids"], got["metadatas"])}

    def article_texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Original texts, the ground truth for quote verification."""
        if not ids:
            return {}
        with chroma_errors(self.settings):
            got = read_ids(self._articles, ids, ["documents"], page=self.page)
        return dict(zip(got["ids"], got["documents"]))

    def nearest_articles(self, vector: np.ndarray, k: int = 5) -> list[Neighbour]:
        """Articles whose article vectors are closest to `vector` (Chroma's ANN), nearest first."""
        n = min(k, self._articles.count())
        if n == 0:
            return []
        got = self._articles.query(query_embeddings=[vector.tolist()], n_results=n, include=["metadatas", "distances"])
        return [
            Neighbour(article_info(i, m), 1.0 - float(d), frozenset(json.loads(m.get("facts") or "[]")))
            for i, m, d in zip(got["ids"][0], got["metadatas"][0], got["distances"][0])
            if not m.get("removed")
        ]

    # writing ---------------------------------------------------------------------------------
    def write_articles(self, writes: Sequence[ArticleWrite]) -> None:
        """Write a version of each article so that a reader sees its old version or its new one,
        whole; a batch of articles costs the same few Chroma calls as one.

        1. The new versions' chunks, under ids that carry the version (the old versions' stay
           where they are, still the ones readers use).
        2. The article records: text, metadata, facts, byline vector and `version`, in one
           upsert. This is the switch.
        3. The other versions' chunks are deleted, then the records' `stale` marks.
        A crash before 2 leaves the old versions answerable and the old hashes in place, so the
        next ingest redoes the articles; a crash within 3 leaves unseen chunks that the next
        ingest prunes (`ArticleState.stale`).
        """
        if not writes:
            return
        rows = chunk_rows(writes)
        for lo in range(0, len(rows.ids), self.page):
            # an upsert, not llama-index's add() (Chroma's add keeps an existing id's old content)
            hi = lo + self.page
            self._chunks.upsert(
                ids=rows.ids[lo:hi],
                embeddings=rows.embeddings[lo:hi],
                metadatas=rows.metadatas[lo:hi],
                documents=rows.documents[lo:hi],
            )
        self.lexicon().add(rows.lexical)
        self._articles.upsert(
            ids=[w.info.id for w in writes],
            documents=[w.text for w in writes],
            embeddings=[w.article_vector.tolist() for w in writes],
            metadatas=[write_meta(w) for w in writes],
        )
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
        for part in parts(sorted(versions), self.page):
            got = read_all(self._chunks, ["metadatas"], where={"article_id": {"$in": part}}, page=self.page)
            for i, m in zip(got["ids"], got["metadatas"]):
                article, wanted = m["article_id"], keep[m["article_id"]]
                current = i in wanted if wanted is not None else m.get("version") == versions[article]
                if current:
                    kept[article].append(i)
                else:
                    stale.append(i)
        for part in parts(sorted(stale), self.page):
            self._chunks.delete(ids=part)
        for article, ids in kept.items():
            self.lexicon().keep_only(article, ids)
        for part in parts(sorted(versions), self.page):
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
        batches = list(parts(found, self.page))
        self._set_meta(removing=1)  # before any mark: `interrupted_removals` looks for marks while it is set
        for part in batches:
            self._articles.update(ids=part, metadatas=[{"removed": True}] * len(part))
        for part in batches:
            where = {"article_id": {"$in": part}}
            self._chunks.delete(where=where)
            self.lexicon().remove_articles(part)
        gone = set(found)
        linked = {d for m in got["metadatas"] for d in duplicates_of(m)} - gone
        if linked:
            others = read_ids(self._articles, sorted(linked), ["metadatas"], page=self.page)
            metas = [duplicates_meta(duplicates_of(m) - gone) for m in others["metadatas"]]
            self._articles.update(ids=others["ids"], metadatas=metas)
        for part in batches:
            self._articles.delete(ids=part)
        self._set_meta(removing=0)

    def link_duplicates(self, article_id: str, others: Sequence[str]) -> None:
        """Record `others` as duplicates of `article_id`, and the reverse links too."""
        wanted = sorted({article_id, *others})
        got = self._articles.get(ids=wanted, include=["metadatas"])
        current = {i: duplicates_of(m) for i, m in zip(got["ids"], got["metadatas"])}
        for a, bs in [(article_id, others)] + [(o, [article_id]) for o in others]:
            if a in current:
                current[a] |= set(bs) - {a}
        ids = sorted(current)
        self._articles.update(ids=ids, metadatas=[duplicates_meta(current[i]) for i in ids])

    # reading for retrieval -------------------------------------------------------------------
    def lexicon(self) -> LexicalIndex:
        """The lexical (BM25) index of this store's chunks, rebuilt from the store first when it
        does not reflect the store's generation at its first use (see `rag.index.lexical`).
        Readers open a new `Store` when another process has written (`BriefingQA._fresh`), and
        this store's own writes keep the two in step (`bump`)."""
        with self._lexicon_lock:
            if self._lexicon is None:
                self._lexicon = open_lexicon(self.settings)
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
            with chroma_errors(self.settings):
                for got in pages(self._chunks, ["documents", "metadatas"], page=self.page):
                    lexicon.add([lexical_row(*row) for row in zip(got["ids"], got["metadatas"], got["documents"])])
            lexicon.set_generation(token)

    def chunk_records(self, ids: Sequence[str]) -> dict[str, ChunkRecord]:
        """The stored chunks of `ids`, by id; missing ids are left out."""
        if not ids:
            return {}
        with chroma_errors(self.settings):
            got = read_ids(self._chunks, ids, ["documents", "metadatas"], page=self.page)
        return {i: ChunkRecord(i, m, t) for i, m, t in zip(got["ids"], got["metadatas"], got["documents"])}

    def nodes(self) -> list[Any]:
        """All chunk nodes (llama-index `TextNode`s), page by page: for tools and tests."""
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        with chroma_errors(self.settings):
            got = read_all(self._chunks, ["documents", "metadatas"], page=self.page)
        return [metadata_dict_to_node(m, text=t) for m, t in zip(got["metadatas"], got["documents"])]

    def dense(self, query_vector: np.ndarray, k: int, filters: Filters) -> list[tuple[ChunkRecord, float]]:
        """Top-k stored chunks by cosine similarity, as (chunk record, cosine): one Chroma query.

        Chroma is asked directly, not through llama-index's `ChromaVectorStore.query`: that would
        import llama-index into every process that answers a question (about 2 s of its cold
        start) for one call; the collection and its payload are the ones llama-index writes."""
        with chroma_errors(self.settings):
            got = self._chunks.query(
                query_embeddings=[query_vector.tolist()],
                n_results=k,
                where=chroma_where(filters),
                include=["documents", "metadatas", "distances"],
            )
        rows = zip(got["ids"][0], got["metadatas"][0], got["documents"][0], got["distances"][0])
        # A chunk another process removed can still be in this process's vector index (Chroma keeps
        # one per process and index folder, shared by every client open on it): its record is gone,
        # so it is dropped here, never handed on without one.
        return [
            (ChunkRecord(i, m, t), 1.0 - float(d))  # cosine space: distance = 1 - cos
            for i, m, t, d in rows
            if m is not None and t is not None
        ]
