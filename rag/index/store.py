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

import contextlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import (
    IndexBusyError,
    IndexChangedError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexWriteError,
    storage_fault,
)
from rag.index.chroma import (
    PAGE,
    chroma_errors,
    client,
    lexicon_path,
    open_fault,
    pages,
    parts,
    read_all,
    read_ids,
    rebuild_advice,
    remove_chroma_files,
    where,
)
from rag.index.lexical import LexicalIndex
from rag.index.records import (
    ArticleState,
    ArticleWrite,
    ChunkRecord,
    Neighbour,
    article_info,
    article_meta,
    chroma_where,
    chunk_meta,
    lexical_row,
    pack_vectors,
    unpack_vectors,
)
from rag.index.terms import Terms
from rag.types import ArticleInfo, Filters

log = logging.getLogger(__name__)

SCHEMA = 2  # the collections' layout; an index of another layout is refused at open
# metadata Chroma does not search (only the title is)
_NOT_SEARCHED = ["article_id", "source", "date", "n", "version", "start", "end", "sentences", "entities", "title_derived"]  # fmt: skip


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
        chroma = client(settings, create)
        name = f"{settings.collection}-chunks"
        try:
            existing = {c.name if hasattr(c, "name") else str(c) for c in chroma.list_collections()}
        except Exception as e:  # chromadb raises many types for a damaged database
            raise open_fault(settings, e) from e
        place = where(settings)
        if name not in existing:
            if not create:
                raise IndexNotFoundError(f"No index at {place} — run: briefing ingest seeds/")
        else:
            meta = chroma.get_collection(name, embedding_function=None).metadata or {}
            built_with = meta.get("embed_model")
            if meta.get("schema") != SCHEMA:
                raise IndexCorruptError(
                    f"The index at {place} has layout version {meta.get('schema')!r}; this version of Briefing QA "
                    f"reads version {SCHEMA}. Rebuild it: briefing ingest --rebuild seeds/"
                )
            if built_with != model_id:
                raise IndexCorruptError(
                    f"The index at {place} was built with the embedding model {built_with!r}, but this "
                    f"run uses {model_id!r}. Rebuild it: briefing ingest --rebuild seeds/"
                )
        return cls(chroma, settings, model_id, page)

    @classmethod
    def delete_index(cls, settings: Settings) -> None:
        """Drop the collections (for `ingest --rebuild`), layout 1's sentences collection too. A
        local index too damaged to open loses its Chroma files instead (its database and segment
        folders; nothing else in the folder)."""
        try:
            chroma = client(settings, create=True)
            existing = {c.name if hasattr(c, "name") else str(c) for c in chroma.list_collections()}
        except Exception:  # noqa: BLE001 - chromadb raises many types for a damaged database
            folder = settings.index_dir
            if settings.remote or not folder.is_dir() or (folder / "chroma.sqlite3").is_dir():
                raise  # a file or folder in the wrong place: its message says what to move
            remove_chroma_files(folder)
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()  # the failed open left a broken client for the folder
            chroma, existing = client(settings, create=True), set()
        for kind in ("chunks", "sentences", "articles"):
            if f"{settings.collection}-{kind}" in existing:
                try:
                    chroma.delete_collection(f"{settings.collection}-{kind}")
                except Exception as e:  # noqa: BLE001 - a damaged database: start from no files
                    log.warning("could not drop %s (%s); removing the index's files", kind, e)
                    remove_chroma_files(settings.index_dir)
                    from chromadb.api.shared_system_client import SharedSystemClient

                    SharedSystemClient.clear_system_cache()
                    break
        path = lexicon_path(settings)
        for suffix in ("", "-wal", "-shm"):
            target = path.with_name(path.name + suffix)
            if target.is_dir():
                raise IndexCorruptError(f"{target} is a folder where the lexical index belongs — move it away")
            target.unlink(missing_ok=True)

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
        except (ChromaError, sqlite3.Error, OSError) as e:
            fault = storage_fault(e, f"The index at {where(self.settings)}", rebuild_advice(self.settings))
            if fault is not None:
                raise fault from e
            raise IndexWriteError(
                f"Writing to the index at {where(self.settings)} failed ({type(e).__name__}: {e}). Articles "
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
                            f"Another process has been writing to {where(self.settings)} for {wait:.0f} s; "
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
                    metadata=chunk_meta(w.info, chunk),
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
        self.lexicon().add([lexical_row(n.node_id, n.metadata, c.text) for n, c in zip(nodes, chunks)])
        self._articles.upsert(
            ids=[w.info.id for w in writes],
            documents=[w.text for w in writes],
            embeddings=[w.article_vector.tolist() for w in writes],
            metadatas=[
                article_meta(w.info) | {
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
        for part in batches:
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
                    fault = storage_fault(e, f"The lexical index {lexicon_path(self.settings)}", "")
                    if lexicon_path(self.settings).is_dir():
                        raise IndexCorruptError(
                            f"{lexicon_path(self.settings)} is a folder where the lexical index belongs — move it away"
                        ) from e
                    if not isinstance(fault, IndexCorruptError):
                        raise (
                            fault or IndexChangedError(f"The lexical index cannot be opened ({e}); try again")
                        ) from e
                    # derived data: a damaged copy is dropped and rebuilt from the store below
                    log.warning("the lexical index was damaged (%s); rebuilding it from the store", e)
                    for suffix in ("", "-wal", "-shm"):
                        lexicon_path(self.settings).with_name(lexicon_path(self.settings).name + suffix).unlink(
                            missing_ok=True
                        )
                    self._lexicon = LexicalIndex(lexicon_path(self.settings), Terms())
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
        """All chunk nodes (llama-index `TextNode`s), read page by page: for tools and tests; no
        question or ingest reads them all."""
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

    def sentence_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of the sentences of `chunk_ids`, keyed `"{chunk_id}.{k}"` (retrieval reads
        them with the chunks; this is for tools and tests)."""
        with chroma_errors(self.settings):
            got = read_ids(self._chunks, list(dict.fromkeys(chunk_ids)), ["metadatas"], page=self.page)
        return {
            f"{i}.{k}": v
            for i, m in zip(got["ids"], got["metadatas"])
            for k, v in enumerate(unpack_vectors(m.get("vectors") or ""))
        }
