"""Ingest files into the index: read → skip unchanged → chunk → embed and analyse sentences → write →
link duplicates.

Re-running is safe and cheap: an article whose content hash and pipeline version are already in
the index costs one metadata read and no embedding. A changed article's chunks are replaced in
place (`Store.write_articles` upserts, then prunes stale ids). A file that cannot be read is
reported in `IngestReport.skipped` and never touches what is already indexed.

Sentences are embedded once, at ingest; a chunk's vector is the normalised mean of its sentence
vectors, so answer sentences can be ranked at question time without running the encoder again.
Files go through in batches of about `_BATCH_SENTENCES` sentences, and the encoder is never idle:
while one batch is embedded on a worker thread, the main thread finds the entities of the batch
before it and writes it, then reads and chunks the files of the next.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rag.config import Settings
from rag.errors import SkipFile
from rag.index.encoder import encode
from rag.index.records import PIPELINE, ArticleState, ArticleWrite
from rag.index.report import IngestReport, Skipped
from rag.index.store import Store
from rag.ingest.analyze import annotate
from rag.ingest.chunk import chunk_article
from rag.ingest.dedupe import facts, same_story
from rag.ingest.read import article_id, byline_statement, discover, legacy_id, read_article
from rag.types import Article, ArticleInfo, Chunk

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]  # (files done, files total, current source)
_BATCH_SENTENCES = 256


@dataclass(frozen=True)
class _Pending:
    article: Article
    chunks: list[Chunk]
    updated: bool


def ingest_paths(
    paths: Iterable[str],
    store: Store,
    embedder: Any,
    settings: Settings,
    progress: Progress | None = None,
    *,
    sync: bool = False,
) -> IngestReport:
    """Ingest `paths`; with `sync`, also remove the indexed articles under the given folders whose
    files are gone. Interrupted writes and removals found on the way are finished."""
    paths = list(paths)
    files, unsupported = discover(paths)
    report = IngestReport(skipped=tuple(Skipped(s, r) for s, r in unsupported))
    # the records of these files only (an ingest of one article reads one record, not the whole
    # collection), and any removal a crash cut short
    state = store.article_state(sorted({i for f in files for i in (article_id(f), legacy_id(f))}))
    # an article indexed under the id earlier versions gave its path moves to its id now
    moved = {
        article_id(f): legacy_id(f) for f in files
        if article_id(f) not in state and _indexed_from(state.get(legacy_id(f)), f)
    }  # fmt: skip
    finished = False  # an interrupted removal or replacement finished here
    if interrupted := store.interrupted_removals():
        store.remove_articles(interrupted)
        finished = True
    if sync:
        gone = [
            i for i, st in store.article_state().items()
            if not st.removed and _under_any(st.source, [p for p in paths if os.path.isdir(p)])
            and not os.path.exists(st.source)
        ]  # fmt: skip
        if gone:
            store.remove_articles(gone)
            report = replace(report, removed=tuple(sorted(gone)))
    if moved:  # their files are read and written again below, under their new ids
        store.remove_articles(sorted(moved.values()))
        finished = True
    seen: set[str] = set()
    pending: list[_Pending] = []
    # A batch is embedded on a worker thread while the batch before it goes through the entity
    # pass and is written, and while the next files are read and chunked (`_start`, `_finish`).
    with ThreadPoolExecutor(1, thread_name_prefix="embed") as pool:
        ahead: _Batch | None = None
        for done, source in enumerate(files, start=1):
            if progress:
                progress(done, len(files), source)
            try:
                article = read_article(source)
                chunks = chunk_article(article, settings.chunk_chars)
            except SkipFile as e:
                report = replace(report, skipped=report.skipped + (Skipped(source, str(e)),))
                continue
            except (ValueError, RecursionError, MemoryError, UnicodeError) as e:  # one file's fault, never the run's
                log.warning("skipped %s", source, exc_info=True)
                report = replace(report, skipped=report.skipped + (Skipped(source, _failed(e)),))
                continue
            if article.id in seen:
                report = replace(report, skipped=report.skipped + (Skipped(source, "given twice"),))
                continue
            seen.add(article.id)
            known = state.get(article.id)
            if known and not known.removed and (known.content_hash, known.pipeline) == (article.content_hash, PIPELINE):
                if known.stale:
                    store.prune(article.id)
                    finished = True
                report = replace(report, unchanged=report.unchanged + (article.id,))
                continue
            updated = (known is not None and not known.removed) or article.id in moved
            pending.append(_Pending(article, chunks, updated))
            if sum(len(c.sentences) for p in pending for c in p.chunks) >= _BATCH_SENTENCES:
                started = _start(pending, pool, embedder)
                if ahead:
                    report = _finish(ahead, store, settings, report)
                ahead, pending = started, []
        last = _start(pending, pool, embedder) if pending else None  # embedded while `ahead` is written
        for batch in (ahead, last):
            if batch:
                report = _finish(batch, store, settings, report)
    if finished or report.removed:
        store.bump()
    return report


@dataclass(frozen=True)
class _Batch:
    pending: list[_Pending]
    bylined: list[Article]  # the articles with a byline, whose statements follow the sentences
    sentences: int
    vectors: Future[np.ndarray]  # sentences, then statements


def _start(pending: list[_Pending], pool: ThreadPoolExecutor, embedder: Any) -> _Batch:
    """Start embedding `pending`'s sentences and byline statements on `pool`."""
    texts = [s.text for p in pending for c in p.chunks for s in c.sentences]
    bylined = [p.article for p in pending if p.article.byline]
    statements = [byline_statement(a.title, a.author, a.date, a.outlet) for a in bylined]
    return _Batch(pending, bylined, len(texts), pool.submit(encode, embedder, texts + statements))


def _finish(batch: _Batch, store: Store, settings: Settings, report: IngestReport) -> IngestReport:
    """Find `batch`'s entities while it (or the next batch) is embedded, then write it. The
    encoder runs without the GIL, the entity pass with it, so the two share the cores; the
    encoder's runs are single-threaded, one per core, so a busy core slows one run rather than
    stalling a run spread over both."""
    pending, failed = _annotated(batch.pending)
    for p, reason in failed:
        report = replace(report, skipped=report.skipped + (Skipped(p.article.source, reason),))
    vectors = batch.vectors.result()
    byline_vectors = dict(zip((a.id for a in batch.bylined), vectors[batch.sentences :]))
    vectors = vectors[: batch.sentences]
    known = store.article_infos([p.article.id for p in pending if p])  # only these: a batch reads no whole collection
    offset, writes = 0, []
    for p, given in zip(pending, batch.pending):
        n = sum(len(c.sentences) for c in given.chunks)
        vecs, offset = vectors[offset : offset + n], offset + n
        if p is None:
            continue
        centroid = vecs.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        a = p.article
        info = ArticleInfo(
            id=a.id, source=a.source, title=a.title, content_hash=a.content_hash, chunks=len(p.chunks),
            author=a.author, date=a.date, outlet=a.outlet,
            duplicates=known[a.id].duplicates if a.id in known else (), version=a.version, byline=a.byline,
            title_derived=a.title_derived,
        )  # fmt: skip
        writes.append(
            ArticleWrite(
                info, a.text, p.chunks, vecs, centroid, byline_vectors.get(a.id), frozenset(facts(a.clean_text))
            )
        )
    store.write_articles(writes)
    for k, (p, w) in enumerate(zip([p for p in pending if p], writes)):
        later = {o.info.id for o in writes[k + 1 :]}  # linked from their side, as they would be one by one
        links = [(o, cos) for o, cos in _duplicates(w, store, settings) if o not in later]
        if links:
            store.link_duplicates(w.info.id, [other for other, _ in links])
        report = replace(
            report,
            added=report.added + (() if p.updated else (w.info.id,)),
            updated=report.updated + ((w.info.id,) if p.updated else ()),
            duplicates=report.duplicates + tuple((w.info.id, o, s) for o, s in links),
            chunks_embedded=report.chunks_embedded + len(p.chunks),
        )
    store.bump()
    return report


def _annotated(pending: list[_Pending]) -> tuple[list[_Pending | None], list[tuple[_Pending, str]]]:
    """`pending` with the entities of their sentences found, in one pass; when that fails, one
    article at a time, and an article that still fails is left out (None) with its reason."""
    try:
        found = iter(annotate([c for p in pending for c in p.chunks]))
        return [replace(p, chunks=[next(found) for _ in p.chunks]) for p in pending], []
    except (ValueError, RecursionError, MemoryError) as e:
        log.warning("entity pass failed for a batch (%s); retrying article by article", type(e).__name__)
    out: list[_Pending | None] = []
    failed = []
    for p in pending:
        try:
            out.append(replace(p, chunks=annotate(p.chunks)))
        except (ValueError, RecursionError, MemoryError) as e:
            log.warning("skipped %s", p.article.source, exc_info=True)
            out.append(None)
            failed.append((p, _failed(e)))
    return out, failed


def _failed(error: BaseException) -> str:
    detail = str(error).splitlines()[0][:200] if str(error) else ""
    return f"could not be read ({type(error).__name__}{': ' + detail if detail else ''})"


def remove_paths(paths: Iterable[str], store: Store) -> IngestReport:
    """Remove the indexed articles whose source is one of `paths` or lies under one of them (a
    folder). A path that matches no indexed article is reported in `skipped`."""
    paths = list(paths)
    state = store.article_state()
    removed: set[str] = set()
    skipped = []
    for p in paths:
        hits = {i for i, st in state.items() if _under_any(st.source, [p]) or i in (article_id(p), legacy_id(p))}
        if hits:
            removed |= hits
        else:
            skipped.append(Skipped(p, "not in the index (see: briefing sources)"))
    if removed:
        store.remove_articles(sorted(removed))
        store.bump()
    return IngestReport(removed=tuple(sorted(removed)), skipped=tuple(skipped))


def _indexed_from(state: ArticleState | None, source: str) -> bool:
    """The record `state` is of the file `source` (as given then or now, compared absolute)."""
    return (
        state is not None
        and not state.removed
        and (state.source == source or os.path.abspath(state.source) == os.path.abspath(source))
    )


def _under_any(source: str, roots: list[str]) -> bool:
    """`source` is one of `roots` or lies inside one (paths compared absolute and normalised)."""
    path = os.path.abspath(source)
    for root in roots:
        top = os.path.abspath(root)
        if path == top or path.startswith(top.rstrip(os.sep) + os.sep):
            return True
    return False


def _duplicates(write: ArticleWrite, store: Store, settings: Settings) -> list[tuple[str, float]]:
    """Other articles with the same text, or on the same topic (article vectors' cosine ≥
    `near_duplicate`) that report the same facts (Jaccard of their numbers and names ≥
    `near_duplicate_facts`): two write-ups of one study, not two stories on one subject. The
    neighbours come from Chroma's ANN over article vectors, with the facts stored at their write."""
    out = []
    for near in store.nearest_articles(write.article_vector, k=6):
        if near.info.id == write.info.id:
            continue
        if near.info.content_hash == write.info.content_hash:
            out.append((near.info.id, 1.0))
        elif same_story(
            near.cosine,
            write.facts,
            near.facts,
            min_cosine=settings.near_duplicate,
            min_shared=settings.near_duplicate_facts,
        ):
            out.append((near.info.id, round(near.cosine, 4)))
    return out
