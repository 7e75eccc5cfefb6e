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
from dataclasses import dataclass, replace
from itertools import zip_longest
from typing import Protocol

import numpy as np

from rag.query.answer import NOT_COVERED, Found, answered, compose, find
from rag.query.confidence import Confidence
from rag.query.question import unnamed_person
from rag.query.reader import Reader
from rag.query.retrieve import Corpus, retrieve
from rag.types import Answer, Budget, Filters, Focus, Passage, complete_stream


@dataclass(frozen=True)
class AnswerContext:
    """What an answerer gets besides the question and the passages."""

    texts: Mapping[str, str]  # article id → original text (what every quote is checked against)
    found: Sequence[Found] = ()  # the reader's best span in each passage, the chosen one first
    unknown: Sequence[str] = ()  # names and numbers of the question that the corpus never mentions
    budget: Budget | None = None  # time for model calls (None: the answerer's default)
    stream: bool = False  # read a model's reply from its streaming endpoint
    focus: Focus | None = None  # what the conversation is about, when the question follows it
    filtered: str = ""  # what the filters left to read, said when the answer abstains
    unnamed: str = ""  # a pronoun that stands for no one ("What did he say?" with no conversation before it)

    @property
    def confidence(self) -> float:
        """The probability that the question is answered (0 when nothing was found): `answered`."""
        return answered(self.found)

    def finished(self, answer: Answer) -> Answer:
        """`answer` as it is handed out, whoever wrote it: with the conversation's focus, and, when
        it abstains and says nothing else, what the filters let through."""
        note = self.filtered if answer.abstained and not answer.note and self.filtered else answer.note
        return replace(answer, focus=self.focus, note=note)


FOCUS_PASSAGES = 3  # passages of a conversation's focus articles that a follow-up reads first


def read_corpus(
    corpus: Corpus,
    question: str,
    vector: np.ndarray,
    filters: Filters,
    top_k: int,
    candidates: int,
    reader: Reader,
    confidence: Confidence,
    focus: Focus | None = None,
    focus_vector: np.ndarray | None = None,
) -> tuple[tuple[Passage, ...], AnswerContext]:
    """Retrieve → read: the passages, each read for its best span, with the texts their quotes
    are verified against and what the question names that the corpus never does.

    In a conversation (`focus`: the articles the last answer cited, and that turn), a follow-up
    is searched with the last turn ("Where did Dame Alicia Markova die? Bath. How old was she?",
    `focus_search`, whose vector is `focus_vector`), and the best passages of the focus articles
    come first: boosted, not filtered. A passage's retrieval rank is its better place in the two
    searches, the question's own and the one with the last turn. A question that names a new
    subject (something neither the focus articles nor the last turn name) starts afresh."""
    unnamed = unnamed_person(question) if focus is None else None  # no conversation to take it from
    if unnamed:  # nothing to look for: no retrieval, no reading
        return (), AnswerContext({}, unnamed=unnamed)
    candidates = max(candidates, top_k)
    focus = _kept(corpus, question, focus) if focus_vector is not None else None
    search = focus_search(focus, question) if focus is not None else question
    passages = own = searched = retrieve(corpus, question, vector, filters, top_k, candidates)
    if focus is not None:
        searched = retrieve(corpus, search, focus_vector, filters, top_k, candidates)
        passages = _alternate(searched, passages)
        infos = corpus.infos(list(focus.articles))
        within = _within(filters, tuple(info.source for info in infos.values()))
        near = retrieve(corpus, search, focus_vector, within, FOCUS_PASSAGES, candidates) if within else []
        if within:
            ids = {p.chunk.id for p in near}
            passages = [*near, *(p for p in passages if p.chunk.id not in ids)][: max(top_k, len(near))]
        first = infos.get(focus.articles[0])
        focus = replace(focus, title=first.title if first else "")
    last = focus.answer if focus is not None and focus.follow_up else ""
    found = find(question, passages, reader, corpus, confidence, (own, searched), last)
    texts = corpus.texts(sorted({p.article.id for p in passages}))
    filtered = "" if filters.empty else _filtered(filters, bool(passages))
    return tuple(passages), AnswerContext(texts, found, corpus.unknown_names(question), focus=focus, filtered=filtered)


def _filtered(filters: Filters, read: bool) -> str:
    """What a user is told of `filters` when the answer abstains: that no indexed article passes
    them, or that only the articles that do were read."""
    parts = [f"{len(filters.sources)} source{'s' if len(filters.sources) > 1 else ''}"] if filters.sources else []
    if filters.date_from:
        parts.append(f"dated on or after {filters.date_from.isoformat()}")
    if filters.date_to:
        parts.append(f"dated on or before {filters.date_to.isoformat()}")
    undated = " (an article without a date never passes a date filter)" if filters.date_from or filters.date_to else ""
    if read:
        return f"Only the articles that pass the filters were read: {', '.join(parts)}."
    return f"No indexed article passes the filters: {', '.join(parts)}{undated}."


def focus_search(focus: Focus, question: str) -> str:
    """What a follow-up is searched with: the last turn (its question and short answer), then
    the question."""
    answer = focus.answer.strip()
    return " ".join(part for part in (focus.question.strip(), f"{answer}." if answer else "", question.strip()) if part)


def _kept(corpus: Corpus, question: str, focus: Focus | None) -> Focus | None:
    """`focus`, unless `question` names a new subject: something that neither the focus articles
    nor the last turn name ("How many planes has Ryanair ordered?" after a conversation about a
    ballerina; "And Livingston?" after a story about Celtic that never mentions Livingston)."""
    if focus is None or not focus.articles:
        return None
    names = corpus.terms.names(question)
    if not names:
        return focus
    said = " ".join([focus.question, focus.answer, *corpus.texts(list(focus.articles)).values()])
    return focus if names <= set(corpus.terms(said)) else None


def _alternate(first: list[Passage], second: list[Passage]) -> list[Passage]:
    """The passages of two result lists taken in turn, each once."""
    out: dict[str, Passage] = {}
    for pair in zip_longest(first, second):
        out.update((p.chunk.id, p) for p in pair if p is not None and p.chunk.id not in out)
    return list(out.values())


def _within(filters: Filters, sources: tuple[str, ...]) -> Filters | None:
    """`filters` narrowed to `sources` (None when that leaves nothing)."""
    if filters.sources:
        allowed = set(filters.sources)
        sources = tuple(s for s in sources if s in allowed)
    return replace(filters, sources=sources) if sources else None


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
        if context.unnamed:
            note = f"Who is “{context.unnamed}”? The question names no one it could stand for: name them and ask again."
            return Answer(question=question, text=NOT_COVERED, abstained=True, note=note)
        return compose(question, context.found, context.texts, self.min_confidence, context.unknown)

    def stream(
        self, question: str, passages: Sequence[Passage], *, context: AnswerContext
    ) -> Generator[str, None, Answer]:
        return (yield from complete_stream(self.answer(question, passages, context=context)))
