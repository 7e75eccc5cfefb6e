"""The domain chain as frozen dataclasses: Article → Chunk → Passage → Answer(Citation…).

Every span carries character offsets into the *original* file text (`Article.text`), so a quote
can always be checked as `article.text[start:end]`. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Block:
    """A run of article text kept after cleaning (a paragraph, a line, an HTML block).

    `text` is the clean text. When `starts` is empty, `text` is verbatim
    `article.text[start:end]`; otherwise clean character `i` came from the original span
    `[starts[i], ends[i])` (HTML, where tags were dropped and entities decoded).
    """

    start: int
    end: int
    text: str
    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()

    def span(self, i: int, j: int) -> tuple[int, int]:
        """Original `[start, end)` of the clean slice `text[i:j]` (non-empty)."""
        if not 0 <= i < j <= len(self.text):
            raise ValueError(f"slice [{i}:{j}] is not a non-empty slice of a block of length {len(self.text)}")
        if not self.starts:
            return self.start + i, self.start + j
        return self.starts[i], self.ends[j - 1]


@dataclass(frozen=True)
class Entity:
    """A named entity found by the language model: `[start, end)` into the text it was found in
    (for a sentence, its clean `text`) and its label (PERSON, ORG, GPE, DATE, MONEY, CARDINAL, …)."""

    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Byline:
    """Where an article says who wrote it and when: `text == original[start:end]` (a byline, or
    front-matter lines), with the author (PERSON), date (DATE) and outlet (ORG) as entities into `text`."""

    start: int
    end: int
    text: str
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class Article:
    """One source file, read and cleaned. `text` is the file's full original text."""

    id: str
    source: str
    text: str
    blocks: tuple[Block, ...]
    content_hash: str
    title: str
    author: str | None = None
    date: dt.date | None = None
    outlet: str | None = None
    byline: Byline | None = None
    title_derived: bool = False  # no headline: `title` was made from the first sentence

    @property
    def clean_text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)

    @property
    def version(self) -> str:
        """Names this content: chunk ids carry it, so two versions of an article never share an id."""
        return self.content_hash[:12]


@dataclass(frozen=True)
class Sentence:
    """A sentence: clean `text` plus its original span `[start, end)`, and the named entities in
    `text` (filled in at ingest)."""

    start: int
    end: int
    text: str
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """Consecutive sentences of one article; id `"{article_id}@{version}#{n}"`.

    The version (the start of the article's content hash) lets a changed article's new chunks be
    written beside the old ones, so readers see either version whole, never a mix."""

    id: str
    article_id: str
    n: int
    sentences: tuple[Sentence, ...]

    @property
    def start(self) -> int:
        return self.sentences[0].start

    @property
    def end(self) -> int:
        return self.sentences[-1].end

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass(frozen=True)
class ArticleInfo:
    """What the index knows about an article (without re-reading the file)."""

    id: str
    source: str
    title: str
    content_hash: str
    chunks: int
    author: str | None = None
    date: dt.date | None = None
    outlet: str | None = None
    duplicates: tuple[str, ...] = ()  # ids of exact or near-duplicate articles
    version: str = ""  # the content version whose chunks readers see (`Article.version`)
    byline: Byline | None = None
    title_derived: bool = False  # no headline: `title` repeats the first sentence's words


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores (`score` is the fused rank score)."""

    chunk: Chunk
    article: ArticleInfo
    score: float
    dense: float = 0.0  # cosine similarity to the question


@dataclass(frozen=True)
class Citation:
    """A verified quote: `quote == original_text[start:end]` always holds."""

    source: str
    title: str
    quote: str
    start: int
    end: int
    score: float = 0.0
    article_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Disagreement:
    """One side of a disagreement between sources: the value as that source states it and the
    number of its citation in `Answer.citations` (1-based, as the text marks it)."""

    value: str
    citation: int
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "citation": self.citation, "source": self.source}


@dataclass(frozen=True)
class Answer:
    """What `ask` returns. Abstentions carry no citations.

    `standalone_question` is what was searched (a follow-up rewritten with its context);
    `unsupported_sentences` are sentences a model wrote that no verified quote supports (they
    are not in `text`); `note` tells the user about a fallback (e.g. the model timed out);
    `conflicts` lists the sides when sources give different values for what was asked.
    """

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    confidence: float = 0.0  # calibrated probability that the corpus answers: its most probable span's
    short_answer: str = ""  # the span the text leads with ("Over $1.7 billion"), if any
    standalone_question: str = ""
    unsupported_sentences: tuple[str, ...] = ()
    note: str = ""
    answered_by: str = "extractive"  # or the language model's name
    conflicts: tuple[Disagreement, ...] = ()  # sources that give different values, each cited
    focus: Focus | None = None  # what the conversation was about when this follow-up was read
    passages: tuple[Passage, ...] = field(default=(), repr=False)
    generation: Generation | None = field(default=None, repr=False)  # how the model's reply went, if one was asked

    def to_dict(self) -> dict[str, Any]:
        """The `ask --json` schema (extra keys only when they carry something)."""
        out: dict[str, Any] = {
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
        }
        if self.standalone_question and self.standalone_question != self.question:
            out["standalone_question"] = self.standalone_question
        if self.unsupported_sentences:
            out["unsupported_sentences"] = list(self.unsupported_sentences)
        if self.note:
            out["note"] = self.note
        if self.conflicts:
            out["conflicts"] = [d.to_dict() for d in self.conflicts]
        if self.focus is not None:
            out["about"] = {"articles": list(self.focus.articles), "title": self.focus.title}
        return out


@dataclass(frozen=True)
class Generation:
    """How a language model's reply went (the `eval --llm` figures): the structured-output
    mechanism it was asked with, whether the reply was readable in that format, and how many of
    its sentences and quotes survived verification."""

    mechanism: str  # "json_schema", "guided_json", "json_object" or "text"
    parsed: bool
    sentences: int = 0  # sentences the model wrote
    kept: int = 0  # sentences kept: quotes found verbatim and the support check passed
    quotes: int = 0  # quotes the model gave
    found: int = 0  # quotes found verbatim in the passages' articles
    abstained: bool = False  # the model said the passages do not answer
    seconds: float = 0.0


def complete_stream(answer: Answer) -> Generator[str, None, Answer]:
    """The stream of an answer that is already complete: its text a sentence (or quotation) per
    delta, each with the space after it, then the answer."""
    for piece in re.split(r"(?<=[.!?\]”] )(?=[A-Z\"“(])", answer.text):
        if piece:
            yield piece
    return answer


class AnswerStream(Iterator[str]):
    """What `ask_stream` returns: iterate it for the answer's verified text as it becomes
    available (the deltas joined are `answer.text`); `answer` is the final `Answer` (reading it
    first reads whatever text is left). One type for every caller, no `str | Answer` to test."""

    def __init__(self, run: Generator[str, None, Answer]) -> None:
        self._run = run
        self._answer: Answer | None = None

    @classmethod
    def of(cls, answer: Answer) -> AnswerStream:
        """A stream of an answer that is already complete."""
        return cls(complete_stream(answer))

    def __iter__(self) -> AnswerStream:
        return self

    def __next__(self) -> str:
        if self._answer is not None:
            raise StopIteration
        try:
            return next(self._run)
        except StopIteration as done:
            self._answer = done.value
            raise

    @property
    def answer(self) -> Answer:
        for _ in self:
            pass
        if self._answer is None:  # pragma: no cover - a generator always returns its answer
            raise RuntimeError("the answer stream ended without an answer")
        return self._answer


@dataclass(frozen=True)
class Budget:
    """A deadline on the monotonic clock for every model call made for one question."""

    until: float
    seconds: float
    retries: int = 2

    @classmethod
    def start(cls, seconds: float, retries: int = 2) -> Budget:
        return cls(time.monotonic() + seconds, seconds, retries)

    @classmethod
    def of(cls, settings: Any) -> Budget:
        """From `Settings` (`llm_budget` seconds, `llm_retries`)."""
        return cls.start(settings.llm_budget, settings.llm_retries)

    def remaining(self) -> float:
        return self.until - time.monotonic()


@dataclass(frozen=True)
class Turn:
    """One exchange of a conversation, as stored in its history."""

    question: str
    standalone_question: str
    answer: str
    short_answer: str = ""
    abstained: bool = False
    articles: tuple[str, ...] = ()  # the ids of the articles its answer cited, first cited first


@dataclass(frozen=True)
class Focus:
    """What a conversation is about: the articles its last answer cited, and that turn (a
    follow-up is retrieved with them boosted, and read with that turn; a question that leans on
    that turn, `follow_up`, is never answered with that turn's answer again). `title` is the first
    article's, for "about: <title>"."""

    articles: tuple[str, ...]
    question: str = ""  # the turn's question, as it was searched
    answer: str = ""  # its short answer
    title: str = ""
    # the question leans on that turn ("And in 2003?", "Who did he replace?"): it asks for another answer
    follow_up: bool = False

    FOLLOWS = 3  # turns back a conversation keeps its focus through abstentions

    @classmethod
    def of(cls, turns: Sequence[Turn]) -> Focus | None:
        """The focus after `turns`: the last answered turn's, if it is among the last few."""
        for turn in reversed(turns[-cls.FOLLOWS :]):
            if turn.articles and not turn.abstained:
                return cls(turn.articles, turn.standalone_question or turn.question, turn.short_answer)
        return None


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some sources and/or a publication date range (inclusive)."""

    sources: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    MAX_SOURCES = 1000  # a longer list is refused: name a folder's articles by fewer, wider filters

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"the start date {self.date_from} is after the end date {self.date_to}")
        if len(self.sources) > self.MAX_SOURCES:
            raise ValueError(f"a sources filter names at most {self.MAX_SOURCES} sources, not {len(self.sources):,}")
        for source in self.sources:
            if not isinstance(source, str) or not source.isprintable() or not _utf8(source):
                raise ValueError(f"a source must be a file path in printable UTF-8 text, not {source!r}")

    @property
    def empty(self) -> bool:
        return not (self.sources or self.date_from or self.date_to)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
