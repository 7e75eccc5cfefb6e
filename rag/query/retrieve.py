"""Hybrid retrieval: dense (Chroma, cosine) + BM25 (postings in SQLite, `rag.index.lexical`), fused by normalised score.

The two result lists are fused by distribution-based score fusion (`fuse`: llama-index's
`QueryFusionRetriever` formula, written out so that answering does not import llama-index; the
dense query goes to the Chroma collection llama-index's layout was written to). Metadata filters (sources, date range) go to Chroma as a
`where` clause and to the lexical index as SQL conditions, so both obey the same filter.

Neither index is held in memory: the dense one is Chroma's, the lexical one a SQLite file of
postings the ingest updates per article; a retrieved chunk is fetched from the store by id. The `Corpus`
keeps the records of the articles it has retrieved from and the IDF of the terms it has looked
up, both until `refresh()` (a new generation of the index). The term statistics the answer's confidence
reads (`Corpus.idf`) are the lexical index's own document frequencies, and `Terms` splits,
lower-cases and stems text exactly as that index does, so BM25 and the scoring agree on what a
term is.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import replace
from functools import cached_property
from typing import Any

import numpy as np

from rag.errors import InputError
from rag.index.lexical import Hit
from rag.index.records import date_key, record_to_chunk
from rag.index.store import Store
from rag.index.terms import Terms
from rag.ingest.read import article_id
from rag.types import ArticleInfo, Filters, Passage

TEXTS = 256  # article texts a `Corpus` keeps (a few MB)


class Corpus:
    """What retrieval needs from the whole index: the article table (read once per generation of
    the index) and the store's dense and lexical indexes, which stay on disk."""

    def __init__(self, store: Store, candidates: int = 20) -> None:
        self.store = store
        self.candidates = candidates  # BM25 hits per question
        self.terms = Terms()
        self._idf: dict[str, float] = {}  # IDF of the terms looked up since the last refresh
        self._infos: dict[str, ArticleInfo | None] = {}  # records read since then (None: not visible)
        self._texts: dict[str, str] = {}  # original texts of articles answers cited from, at most `TEXTS`

    def refresh(self) -> None:
        for name in ("articles", "_documents"):
            self.__dict__.pop(name, None)
        self._idf = {}
        self._infos = {}
        self._texts = {}

    @property
    def empty(self) -> bool:
        return not self._documents

    def infos(self, ids: list[str]) -> dict[str, ArticleInfo]:
        """The records of the articles `ids` that readers see, read from the store once per
        generation of the index: a question reads the records of the articles it retrieved,
        never the whole table (14,865 records took seconds to read at 100k chunks)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._infos]
        if missing:
            found = self.store.article_records(missing)
            self._infos.update({i: found[i][0] if i in found else None for i in missing})
        return {i: info for i in ids if (info := self._infos[i]) is not None}

    def named(self, filters: Filters) -> Filters:
        """`filters` with each of its sources as the index names it: an article id (as `briefing
        sources` lists it) or the article's file, by the path it was ingested with or by another
        path to the same file ("corpus/a.txt" for "/home/me/corpus/a.txt"). `InputError` for a
        source that is no indexed article: a filter that matches nothing would only abstain."""
        if not filters.sources:
            return filters
        ways = {name: list(dict.fromkeys([name, *map(article_id, _paths(name))])) for name in filters.sources}
        infos = self.infos([i for ids in ways.values() for i in ids])
        sources = []
        for name, ids in ways.items():
            found = next((infos[i].source for i in ids if i in infos), None)
            if found is None:
                listed = "`briefing sources` lists them"
                raise InputError(f"No indexed article is {name!r} — name a source by its file or its id ({listed})")
            sources.append(found)
        return replace(filters, sources=tuple(dict.fromkeys(sources)))

    def texts(self, ids: list[str]) -> dict[str, str]:
        """The original texts of the articles `ids` (what quotes are verified against), kept for
        the next questions until there are `TEXTS` of them: questions in a row retrieve from the
        same few articles."""
        kept = self._texts
        out = {i: kept[i] for i in ids if i in kept}
        missing = [i for i in dict.fromkeys(ids) if i not in out]
        if missing:
            found = self.store.article_texts(missing)
            out.update(found)
            if len(kept) + len(found) > TEXTS:
                self._texts = found  # past the bound: start over rather than grow
            else:
                kept.update(found)
        return {i: out[i] for i in ids if i in out}

    def visible(self, meta: dict[str, Any]) -> bool:
        """A chunk is read only while its article is indexed and the chunk is of the version the
        article record names (the record is switched last when an article is rewritten)."""
        article_id = meta.get("article_id", "")
        info = self.infos([article_id]).get(article_id)
        return info is not None and meta.get("version", "") == info.version

    @cached_property
    def articles(self) -> dict[str, ArticleInfo]:
        """Every article readers see (for listing them; answering reads only `infos`)."""
        return self.store.articles()

    def lexical(self, question: str, filters: Filters, k: int) -> list[Hit]:
        """The `k` best chunks for `question` by BM25 (ids and scores: the caller fetches the
        chunks it keeps, and drops those readers may not see)."""
        return self.store.lexicon().search(
            question,
            k,
            sources=sorted(filters.sources or ()),
            date_from=date_key(filters.date_from),
            date_to=date_key(filters.date_to),
        )

    @cached_property
    def _documents(self) -> int:
        return self.store.lexicon().count()

    def _lucene_idf(self, df: int) -> float:
        n = self._documents
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def idf(self, stems: list[str]) -> dict[str, float]:
        """Lucene's IDF of each of `stems` that the lexical index holds (from its own document
        frequencies); a stem no chunk contains is left out."""
        missing = [t for t in dict.fromkeys(stems) if t not in self._idf]
        if missing:
            found = self.store.lexicon().document_frequencies(missing)
            self._idf.update({t: self._lucene_idf(df) if df else 0.0 for t, df in found.items()})
        return {t: self._idf[t] for t in stems if self._idf.get(t)}

    def unknown_names(self, question: str) -> list[str]:
        """Names and numbers in `question` that no chunk of the corpus contains, as the question
        writes them: terms split a number at its separators ("2,023" into "023"), so a missing
        part is named by the whole number, and a missing word by the whole name ("United States")."""
        words = list(dict.fromkeys(self.terms.name_words(question)))
        known = self.idf([self.terms.stem(w) for w in words])
        whole = {part: n for n in _SEPARATED.findall(question) for part in self.terms.name_words(n)}
        for name in self.terms.name_runs(question):
            whole.update({part: name for part in name.split() if part not in whole})
        return list(dict.fromkeys(whole.get(w, w) for w in words if self.terms.stem(w) not in known))


_SEPARATED = re.compile(r"\d+(?:[,.]\d+)+")  # "2,023", "1.7"

MODES = ("hybrid", "dense", "lexical")


def retrieve(
    corpus: Corpus,
    question: str,
    query_vector: np.ndarray,
    filters: Filters,
    top_k: int,
    candidates: int,
    mode: str = "hybrid",
) -> list[Passage]:
    """The `top_k` best chunks for `question`, fused from `candidates` per retriever; `mode`
    "dense" or "lexical" uses that retriever alone (the baselines the benchmark reports)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if corpus.empty:
        return []
    dense: list[tuple[Any, float]] = corpus.store.dense(query_vector, candidates, filters) if mode != "lexical" else []
    hits = corpus.lexical(question, filters, candidates) if mode != "dense" else []
    lexical: list[tuple[Any, float]] = [(hit, hit.score) for hit in hits if hit.score > 0]
    cosines = {record.id: cosine for record, cosine in dense}
    fused = (fuse([dense, lexical], [0.5, 0.5]) if mode == "hybrid" else dense or lexical)[:top_k]
    # only the kept BM25 hits that dense retrieval did not bring are read, in one call
    fetched = corpus.store.chunk_records([hit.id for hit, _ in fused if isinstance(hit, Hit)])
    records = [(fetched.get(hit.id) if isinstance(hit, Hit) else hit, score) for hit, score in fused]
    records = [(record, score) for record, score in records if record is not None]
    # the records of the kept chunks' articles, in one read: a chunk of an article being rewritten
    # or removed (rare, and only for a moment) is dropped here, for either retriever
    infos = corpus.infos([record.metadata.get("article_id", "") for record, _ in records])
    kept = [(record, score) for record, score in records if corpus.visible(record.metadata)]
    return [
        Passage(
            chunk=record_to_chunk(record),
            article=infos[record.metadata["article_id"]],
            score=float(score),
            dense=float(cosines.get(record.id, 0.0)),
        )
        for record, score in kept
    ]


def fuse(results: list[list[tuple[Any, float]]], weights: list[float]) -> list[tuple[Any, float]]:
    """Distribution-based score fusion: each retriever's scores rescaled so that its mean ± 3
    standard deviations spans [0, 1], times its weight, then summed per chunk; best first.

    On the SQuAD benchmark (600 questions) the gold paragraph comes first 0.825 of the time
    against 0.757 with reciprocal-rank fusion, which throws away how far ahead a clear BM25
    winner is. This is the formula of llama-index's `QueryFusionRetriever` in its
    `DIST_BASED_SCORE` mode (the figures above were measured with it), written out here so that
    answering a question does not import llama-index (about 2 s of a new process's start).
    The hits are anything with an `id` (chunk records, BM25 hits); a chunk both retrievers found
    keeps the first list's hit."""
    total: dict[str, tuple[Any, float]] = {}
    for hits, weight in zip(results, weights):
        if not hits:
            continue
        scores = [score for _, score in hits]
        mean = sum(scores) / len(scores)
        spread = (sum((x - mean) ** 2 for x in scores) / len(scores)) ** 0.5
        lo, hi = mean - 3 * spread, mean + 3 * spread
        for record, score in hits:
            scaled = (1.0 if hi > 0 else 0.0) if hi == lo else (score - lo) / (hi - lo)
            first, before = total.get(record.id, (record, 0.0))
            total[record.id] = (first, before + weight * scaled)
    return sorted(total.values(), key=lambda hit: -hit[1])


def _paths(name: str) -> list[str]:
    """The ways a file may have been named when it was ingested: as given, absolute, relative."""
    return [name, os.path.abspath(name), os.path.relpath(name)] if name else [name]
