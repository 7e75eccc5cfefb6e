"""Hybrid retrieval: dense (Chroma, cosine) + BM25 (bm25s via llama-index), fused by reciprocal rank.

Both retrievers are llama-index `BaseRetriever`s and are fused by llama-index's
`QueryFusionRetriever` in reciprocal-rank mode with a single query (no LLM is asked to write
query variants, so none is needed). Metadata filters (sources, date range) go to Chroma as a
`where` clause and choose the chunks a BM25 index is built over, so both obey the same filter.

The BM25 index (one per distinct filter, built over the chunks that pass it) and the article
table are built from the store on first use and kept by the `Corpus` object until `refresh()`
(called after every ingest). The term statistics that answer-sentence scoring uses
(`Corpus.idf`) are the document frequencies of the unfiltered BM25 index itself, and `Terms`
splits, lower-cases and stems text exactly as that index does (bm25s' token pattern, stopword
list and Snowball stemmer), so BM25 and the scoring agree on what a term is.
"""

from __future__ import annotations

import math
import re
from functools import cached_property
from typing import Any

import numpy as np

from rag.index.store import Store, matches, node_to_chunk
from rag.types import ArticleInfo, Filters, Passage

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s' default splitter, which the BM25 index uses


class Terms:
    """Lower-cased, stemmed content terms (the BM25 index's stemmer; its stopwords plus NLTK's)."""

    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN

        from rag.vocab import stopwords

        self._stem = Stemmer.Stemmer("english").stemWord
        self._stop = set(STOPWORDS_EN) | stopwords("english")

    def __call__(self, text: str) -> list[str]:
        return [self._stem(t) for t in _TOKEN.findall(text.lower()) if t not in self._stop]

    def name_words(self, text: str) -> list[str]:
        """Words written as names or numbers ("China", "2018", "ECB"), not at the start of `text`."""
        tokens = _TOKEN.findall(text)
        return [
            t
            for i, t in enumerate(tokens)
            if t.lower() not in self._stop and (t[0].isdigit() or (i > 0 and t[0].isupper()))
        ]

    def names(self, text: str) -> set[str]:
        """The stems of `name_words(text)`."""
        return {self._stem(t.lower()) for t in self.name_words(text)}

    def stem(self, word: str) -> str:
        return self._stem(word.lower())


class Corpus:
    """What retrieval needs from the whole index, built lazily from the store."""

    def __init__(self, store: Store, candidates: int = 20) -> None:
        self.store = store
        self.candidates = candidates  # BM25 hits per question (the unfiltered index's k)
        self.terms = Terms()
        self._bm25: dict[tuple[Filters, int], Any] = {}

    def refresh(self) -> None:
        for name in ("nodes", "articles", "idf"):
            self.__dict__.pop(name, None)
        self._bm25.clear()

    @cached_property
    def nodes(self) -> list[Any]:
        return [n for n in self.store.nodes() if self.visible(n.metadata)]

    def visible(self, meta: dict[str, Any]) -> bool:
        """A chunk is read only while its article is indexed and the chunk is of the version the
        article record names (the record is switched last when an article is rewritten)."""
        info = self.articles.get(meta.get("article_id", ""))
        return info is not None and meta.get("version", "") == info.version

    @cached_property
    def articles(self) -> dict[str, ArticleInfo]:
        return self.store.articles()

    def bm25(self, filters: Filters, k: int) -> Any:
        """A BM25 retriever over the chunks that pass `filters` (None when none pass); cached."""
        key = (filters, k)
        if key in self._bm25:
            return self._bm25[key]
        import Stemmer
        from llama_index.retrievers.bm25 import BM25Retriever

        nodes = self.nodes if filters.empty else [n for n in self.nodes if matches(n.metadata, filters)]
        retriever = (
            BM25Retriever.from_defaults(
                nodes=nodes, similarity_top_k=min(k, len(nodes)), stemmer=Stemmer.Stemmer("english"), language="en"
            )
            if nodes
            else None
        )
        self._bm25[key] = retriever  # a concurrent refresh() may drop it again: the local copy is still right
        return retriever

    @cached_property
    def idf(self) -> dict[str, float]:
        """Lucene's IDF of every term of the unfiltered BM25 index, from that index's own document
        frequencies (the non-zero entries of each term's column in bm25s' score matrix)."""
        retriever = self.bm25(Filters(), self.candidates)
        if retriever is None:
            return {}
        index = retriever.bm25
        df = np.diff(np.asarray(index.scores["indptr"]))
        n = int(index.scores["num_docs"])
        return {
            term: math.log(1 + (n - int(df[i]) + 0.5) / (int(df[i]) + 0.5))
            for term, i in index.vocab_dict.items()
            if i < len(df) and df[i] > 0
        }

    def unknown_names(self, question: str) -> list[str]:
        """Names and numbers in `question` that no chunk of the corpus contains."""
        return [w for w in dict.fromkeys(self.terms.name_words(question)) if self.terms.stem(w) not in self.idf]

    def idf_of(self, term: str, name: bool = True) -> float:
        """IDF of `term`. A name or number the corpus never mentions weighs as much as the rarest
        known term (the corpus is about something else); an unknown common word weighs as much as
        an average one (likely a paraphrase: "wrote" for "author")."""
        if term in self.idf:
            return self.idf[term]
        if name or not self.idf:
            return math.log(1 + (len(self.nodes) + 0.5) / 0.5)
        return sum(self.idf.values()) / len(self.idf)


def _retrievers(
    corpus: Corpus, query_vector: np.ndarray, filters: Filters, k: int, cosines: dict[str, float]
) -> list[Any]:
    """A dense and a BM25 retriever for one question; the dense one records cosines in `cosines`."""
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore

    class Dense(BaseRetriever):
        def _retrieve(self, query_bundle: Any) -> list[NodeWithScore]:
            hits = corpus.store.dense(query_vector, k, filters)
            cosines.update((node.node_id, cosine) for node, cosine in hits)
            return [NodeWithScore(node=node, score=cosine) for node, cosine in hits]

    class Lexical(BaseRetriever):
        def _retrieve(self, query_bundle: Any) -> list[NodeWithScore]:
            bm25 = corpus.bm25(filters, k)
            return [h for h in bm25.retrieve(query_bundle) if h.score > 0] if bm25 else []

    return [Dense(), Lexical()]


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
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
    from llama_index.core.schema import QueryBundle

    if not corpus.nodes:
        return []
    cosines: dict[str, float] = {}
    retrievers = _retrievers(corpus, query_vector, filters, candidates, cosines)
    if mode == "hybrid":
        fusion = QueryFusionRetriever(
            retrievers,
            mode=FUSION_MODES.RECIPROCAL_RANK,
            similarity_top_k=top_k,
            num_queries=1,
            use_async=False,
            llm=MockLLM(),
        )
        fused = fusion.retrieve(QueryBundle(question))
    else:
        fused = retrievers[0 if mode == "dense" else 1].retrieve(QueryBundle(question))[:top_k]
    return [
        Passage(
            chunk=node_to_chunk(h.node),
            article=corpus.articles[h.node.metadata["article_id"]],
            score=float(h.score or 0.0),
            dense=float(cosines.get(h.node.node_id, 0.0)),
        )
        for h in fused
        if corpus.visible(h.node.metadata)
    ]
