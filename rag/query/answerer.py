"""The `Answerer` interface: from a question and its retrieved passages to a verified `Answer`.

    answerer.answer(question, passages, context=AnswerContext(texts, ranked, ...)) -> Answer

Two implementations, chosen by configuration (`BriefingQA` picks one): `ExtractiveAnswerer`
(here: the best-scored sentences quoted, or an abstention; offline) and
`rag.llm.generate.LLMAnswerer` (a language model writes the answer from the same passages, and
falls back to the extractive answer). `stream` yields the verified text as it is ready (a model's
sentences one by one, as each is verified) and returns the same `Answer`. Whatever the implementation, every citation is the source
text at its offsets, an abstention has no citations, and the text's `[n]` marks number the
citations in order (`tests/query/test_answerer.py` checks both against the same contract).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.query.answer import Candidate, compose
from rag.query.phrases import Phrase
from rag.types import Answer, Budget, Passage, Sentence, complete_stream


@dataclass(frozen=True)
class AnswerContext:
    """What an answerer gets besides the question and the passages."""

    texts: Mapping[str, str]  # article id → original text (what every quote is checked against)
    ranked: Sequence[Candidate]  # every sentence of the passages, scored, best first
    unknown: Sequence[str] = ()  # names and numbers of the question that the corpus never mentions
    budget: Budget | None = None  # time for model calls (None: the answerer's default)
    stream: bool = False  # read a model's reply from its streaming endpoint
    named: Sequence[str] = ()  # the question's names (entities), as written
    phrase: Callable[[Sentence], Phrase | None] | None = None  # the short answer inside a sentence


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
        ranked = list(context.ranked)
        return compose(
            question, ranked, context.texts, self.min_confidence, context.unknown, context.named, context.phrase
        )

    def stream(
        self, question: str, passages: Sequence[Passage], *, context: AnswerContext
    ) -> Generator[str, None, Answer]:
        return (yield from complete_stream(self.answer(question, passages, context=context)))
