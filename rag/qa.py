"""`BriefingQA`: the Python API that the CLI, the UI and bots use.

    qa = BriefingQA.open("index")             # an existing index
    qa = BriefingQA(Settings.from_env())      # create on first ingest
    report = qa.ingest(["seeds/"])
    answer = qa.ask("What was the minimum arms estimate?")

Components are passed in or built from `Settings`: the embedding model (default: bundled
MiniLM), the Chroma store, the answer calibration. The object holds no global state; the index
is opened lazily on first use, and its in-memory BM25 table is rebuilt after each ingest.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag.answer import Calibration, Candidate, compose, score_sentences
from rag.chat import Chat
from rag.config import Settings
from rag.errors import InputError
from rag.indexer import Progress, encode, ingest_paths
from rag.llm import LLMUnavailable, build_llm
from rag.question import validate_question
from rag.retrieve import Corpus, retrieve
from rag.store import Store
from rag.types import Answer, ArticleInfo, Filters, IngestReport, Passage


class BriefingQA:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Any = None,
        calibration: Calibration | None = None,
        llm: Any = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._calibration = calibration
        self._llm = llm if llm is not None else build_llm(self.settings)
        self._corpus: Corpus | None = None

    @classmethod
    def open(cls, index_dir: str | os.PathLike[str] = "index", **kwargs: Any) -> BriefingQA:
        """Open an existing index (`IndexNotFoundError` if there is none)."""
        settings = kwargs.pop("settings", None) or Settings.from_env()
        qa = cls(settings.with_(index_dir=Path(index_dir)), **kwargs)
        qa._open(create=False)
        return qa

    # components ------------------------------------------------------------------------------
    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from rag.embed import MiniLMEmbedding

            self._embedder = MiniLMEmbedding(embed_batch_size=self.settings.embed_batch_size)
        return self._embedder

    @property
    def llm(self) -> Any:
        """The language model that writes answers (a llama-index LLM), or None: extractive."""
        return self._llm

    @property
    def calibration(self) -> Calibration:
        if self._calibration is None:
            self._calibration = Calibration.load(prior=self.settings.answerable_prior)
        return self._calibration

    def _open(self, create: bool) -> Corpus:
        if self._corpus is None:
            self._corpus = Corpus(Store.open(self.settings, self.embedder.model_name, create=create))
        return self._corpus

    @property
    def _index(self) -> Corpus:
        return self._open(create=False)

    # API -------------------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | os.PathLike[str]], *, progress: Progress | None = None) -> IngestReport:
        """Add or update the articles under `paths`; unchanged ones cost nothing."""
        paths = [os.fspath(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
        corpus = self._open(create=True)
        report = ingest_paths(paths, corpus.store, self.embedder, self.settings, progress)
        corpus.refresh()
        return report

    def articles(self) -> list[ArticleInfo]:
        return sorted(self._index.articles.values(), key=lambda a: a.source)

    def article_text(self, article_id: str) -> str:
        """The original text of an indexed article (what citation offsets point into)."""
        texts = self._index.store.article_texts([article_id])
        if article_id not in texts:
            raise InputError(f"No article {article_id!r} in the index — see: briefing sources")
        return texts[article_id]

    def example_questions(self, n: int = 4) -> list[str]:
        """Questions about the names the corpus mentions in the most articles, kept only when the
        corpus answers them (so every example shown to a user works)."""
        from collections import Counter

        from rag.extract import MULTIWORD_NAME
        from rag.indexer import facts

        counts: Counter[str] = Counter()
        spelled: dict[str, str] = {}
        for article in self.articles():
            text = self.article_text(article.id)
            counts.update(f for f in facts(text) if not f[0].isdigit())
            for m in MULTIWORD_NAME.finditer(text):
                name = m.group(0).replace("’", "'").removesuffix("'s")
                spelled.setdefault(name.lower(), name)
        out: list[str] = []
        for name, _ in counts.most_common(4 * n):
            if name in spelled and len(out) < n:
                question = f"What is reported about {spelled[name]}?"
                if not self.ask(question, offline=True).abstained:
                    out.append(question)
        return out

    def retrieve(self, question: str, *, filters: Filters | None = None, top_k: int | None = None) -> list[Passage]:
        question = validate_question(question, self.settings.max_question_chars)
        vector = encode(self.embedder, [question])[0]
        return self._retrieve(question, vector, filters or Filters(), top_k or self.settings.top_k)

    def _retrieve(self, question: str, vector: Any, filters: Filters, top_k: int) -> list[Passage]:
        s = self.settings
        return retrieve(self._index, question, vector, filters, top_k, max(s.candidates, top_k))

    def rank(self, question: str, *, filters: Filters | None = None, top_k: int | None = None) -> list[Candidate]:
        """Every sentence of the retrieved passages with its features and probability, best first."""
        question = validate_question(question, self.settings.max_question_chars)
        corpus = self._index
        vector = encode(self.embedder, [question])[0]
        passages = self._retrieve(question, vector, filters or Filters(), top_k or self.settings.top_k)
        ids = [f"{p.chunk.id}.{k}" for p in passages for k in range(len(p.chunk.sentences))]
        vectors = corpus.store.sentence_vectors(ids)
        return score_sentences(question, passages, vector, vectors, corpus, self.calibration)

    def ask(
        self, question: str, *, filters: Filters | None = None, top_k: int | None = None, offline: bool = False
    ) -> Answer:
        """Answer from the corpus with verified quotes, or abstain.

        With a language model (and `offline=False`) the model writes the answer from the same
        passages; if it fails or cannot be verified, the extractive answer is returned with a note.
        """
        question, ranked, texts, offline_answer = self._prepare(question, filters, top_k)
        if not self._use_llm(ranked, offline, offline_answer):
            return offline_answer
        from rag.generate import answer_with_llm

        passages = list(offline_answer.passages)
        try:
            return answer_with_llm(question, passages, texts, self.llm, offline_answer)
        except LLMUnavailable as e:
            return replace(offline_answer, note=f"{e}; this is the extractive answer.")

    def ask_stream(
        self, question: str, *, filters: Filters | None = None, top_k: int | None = None, offline: bool = False
    ) -> Iterator[str | Answer]:
        """Text deltas as they are written, then the final verified `Answer` as the last item."""
        question, ranked, texts, offline_answer = self._prepare(question, filters, top_k)
        if not self._use_llm(ranked, offline, offline_answer):
            yield offline_answer.text
            yield offline_answer
            return
        from rag.generate import stream_with_llm

        try:
            yield from stream_with_llm(question, list(offline_answer.passages), texts, self.llm, offline_answer)
        except LLMUnavailable as e:
            yield replace(offline_answer, note=f"{e}; this is the extractive answer.")

    def chat(self, session_id: str | None = None, *, filters: Filters | None = None) -> Chat:
        """A conversation; pass `session_id` to resume one."""
        return Chat(self, session_id, filters=filters)

    def _prepare(
        self, question: str, filters: Filters | None, top_k: int | None
    ) -> tuple[str, list[Candidate], dict[str, str], Answer]:
        question = validate_question(question, self.settings.max_question_chars)
        ranked = self.rank(question, filters=filters, top_k=top_k)
        texts = self._index.store.article_texts(sorted({c.passage.article.id for c in ranked}))
        unknown = self._index.unknown_names(question)
        return question, ranked, texts, compose(question, ranked, texts, self.settings.min_confidence, unknown)

    def _use_llm(self, ranked: list[Candidate], offline: bool, offline_answer: Answer) -> bool:
        """A model is asked only when one is configured, retrieval found something plausible and
        the question names nothing the corpus never mentions."""
        if self.llm is None or offline or not ranked or ranked[0].probability < self.settings.llm_gate:
            return False
        return not (offline_answer.abstained and offline_answer.note)

    def ask_many(self, questions: Iterable[str], **kwargs: Any) -> list[Answer]:
        return [self.ask(q, **kwargs) for q in questions]
