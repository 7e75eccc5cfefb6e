"""The `Answerer` interface: from a question and its retrieved passages to a verified `Answer`.

    passages, context = read_corpus(corpus, question, vector, filters, top_k, candidates, reader, confidence)
    answerer.answer(question, passages, context=context) -> Answer

Two implementations, chosen by configuration (`BriefingQA` picks one): `ExtractiveAnswerer`
(here: the reader's most probable span, its sentence quoted, or an abstention; offline) and
`rag.llm.generate.LLMAnswerer` (a language model writes the answer from the same passages, and
falls back to the extractive answer). `stream` yields the verified text as it is ready (a model's
sentences one by one, as each is verified) and returns the same `Answer`. Whatever the implementation, every citation is the source
text at its offsets, an abstention has no citations, and the text's `[n]` marks number the
citations in order (`tests/query/test_answerer.py` checks both against the same contract).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.query.answer import Confidence, Found, compose, find
from rag.query.reader import Reader
from rag.query.retrieve import Corpus, retrieve
from rag.types import Answer, Budget, Filters, Passage, complete_stream


@dataclass(frozen=True)
class AnswerContext:
    """What an answerer gets besides the question and the passages."""

    texts: Mapping[str, str]  # article id → original text (what every quote is checked against)
    found: Sequence[Found] = ()  # the reader's best span in each passage, most probable first
    unknown: Sequence[str] = ()  # names and numbers of the question that the corpus never mentions
    budget: Budget | None = None  # time for model calls (None: the answerer's default)
    stream: bool = False  # read a model's reply from its streaming endpoint

    @property
    def confidence(self) -> float:
        """The probability that the best span's quote answers (0 when nothing was found)."""
        return self.found[0].probability if self.found else 0.0


def read_corpus(
    corpus: Corpus,
    question: str,
    vector: np.ndarray,
    filters: Filters,
    top_k: int,
    candidates: int,
    reader: Reader,
    confidence: Confidence,
) -> tuple[tuple[Passage, ...], AnswerContext]:
    """Retrieve → read: the passages, each read for its best span, with the texts their quotes
    are verified against and what the question names that the corpus never does."""
    passages = retrieve(corpus, question, vector, filters, top_k, max(candidates, top_k))
    found = find(question, passages, reader, corpus, confidence)
    texts = corpus.texts(sorted({p.article.id for p in passages}))
    return tuple(passages), AnswerContext(texts, found, corpus.unknown_names(question))


class Answerer(Protocol):
    @property
    def name(self) -> str: ...

    def answer(self, question: str, passages: Sequence[Passage], *, context: AnswerContext) -> Answer: ...

    def stream(
        self, question: str, passages: Sequence[Passage], *, context: AnswerContext
    ) -> Generator[str, None, Answer]:
        """The answer's verified text as it becomes available (the deltas joined are its
        `text`), then the `Answer` as the generator's return value."""
        ...


@dataclass(frozen=True)
class ExtractiveAnswerer:
    """Quotes the best sentences when they are likely enough to answer; abstains otherwise."""

    min_confidence: float = 0.5

    @property
    def name(self) -> str:
        return "extractive"

    def answer(self, question: str, passages: Sequence[Passage], *, context: AnswerContext) -> Answer:
        return compose(question, context.found, context.texts, self.min_confidence, context.unknown)

    def stream(
        self, question: str, passages: Sequence[Passage], *, context: AnswerContext
    ) -> Generator[str, None, Answer]:
        return (yield from complete_stream(self.answer(question, passages, context=context)))
