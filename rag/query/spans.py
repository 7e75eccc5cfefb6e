"""Short answers inside a sentence: the entity that answers, and which bound an amount states.

The candidates are the named entities the language model found in the sentence at ingest
(`Sentence.entities`), weighed by how well their label fits what the question asks for
(`rag.query.understand.Understanding`): a PERSON for "who authored", a MONEY amount for "how
much", an ORG for "which foundation". `best_span` takes the best-fitting entity nearest to the
words the sentence shares with the question, leaving out entities the question itself names.
Questions whose answer is not an entity (why, what did … say, who is NAME) answer with the
whole sentence. For amounts, `span_bound` tells an upper bound ("up to $5.5 billion") from a
lower one ("over $1.7 billion", "in minimum shipments"), and `bound` which one a question asks
for. This module does no retrieval and no scoring of sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.query.understand import NUMERIC, Understanding
from rag.types import Sentence
from rag.vocab import QUALIFIER, stopwords


@dataclass(frozen=True)
class Span:
    start: int  # offsets into the sentence text
    end: int
    text: str
    gap: int = 0  # words between the span and the nearest question word in the sentence
    label: str = ""  # the entity label
    fit: float = 0.0  # how well that label fits the question (its probability as the answer's label)


_UPPER_Q = re.compile(r"\b(maximum|max|highest|upper|largest|biggest|most|at most|ceiling|peak)\b", re.I)
_LOWER_Q = re.compile(r"\b(minimum|min|lowest|lower|smallest|least|at least|floor)\b", re.I)
_UPPER_WORD = re.compile(r"maximum|max|highest|largest|ceiling|peak")
_LOWER_WORD = re.compile(r"minimum|min|lowest|smallest|floor")
_BOUND_WINDOW = 6
_QUALIFIED = re.compile(rf"(?<!\w){QUALIFIER.removesuffix('?')}$", re.I)
_UPPER_SPAN = re.compile(r"^(up to|at most|as many as|as much as|under|below|fewer than|less than)\b", re.I)
_LOWER_SPAN = re.compile(r"^(over|more than|at least|above|minimum)\b", re.I)


def bound(question: str) -> str | None:
    """ "upper" for questions about a maximum, "lower" for a minimum, else None."""
    if _UPPER_Q.search(question):
        return "upper"
    if _LOWER_Q.search(question):
        return "lower"
    return None


def bound_words(question: str) -> list[str]:
    """The words of `question` that ask for a bound ("maximum", "at least", …)."""
    return [m.group(0) for p in (_UPPER_Q, _LOWER_Q) for m in p.finditer(question)]


def span_bound(span: Span, sentence: str = "") -> str | None:
    """Which bound a quantity states: an explicit "minimum"/"maximum" within a few words of it
    wins ("up to $1.7 billion in minimum shipments" → "lower"), else its qualifier
    ("up to $5.5 billion" → "upper")."""
    before = sentence[: span.start].split()[-_BOUND_WINDOW:]
    after = sentence[span.end :].split()[:_BOUND_WINDOW]
    nearest: tuple[int, str] | None = None
    for distance, word in [
        *((len(before) - i, w) for i, w in enumerate(before)),
        *((i + 1, w) for i, w in enumerate(after)),
    ]:
        for name, pattern in (("upper", _UPPER_WORD), ("lower", _LOWER_WORD)):
            if pattern.fullmatch(word.strip(".,;:()\"'“”").lower()) and (nearest is None or distance < nearest[0]):
                nearest = (distance, name)
    if nearest:
        return nearest[1]
    return qualifier(span.text)


def qualifier(amount: str) -> str | None:
    """The bound an amount's own qualifier states: "up to $5.5 billion" → "upper", "over $1.7
    billion" → "lower", "$3 million" → None."""
    if _UPPER_SPAN.match(amount):
        return "upper"
    if _LOWER_SPAN.match(amount):
        return "lower"
    return None


def candidates(sentence: Sentence, understanding: Understanding) -> list[Span]:
    """The entities of `sentence` whose label could be the answer's, with that label's fit."""
    out = []
    for e in sentence.entities:
        fit = understanding.weight(e.label)
        if fit <= 0.0:
            continue
        start = e.start
        if e.label in NUMERIC and (m := _QUALIFIED.search(sentence.text[: e.start])):
            start = m.start()  # "up to" + "$1.7 billion": the qualifier belongs to the amount
        out.append(Span(start, e.end, sentence.text[start : e.end], label=e.label, fit=fit))
    return out


def best_span(
    sentence: Sentence, understanding: Understanding, question_words: set[str], wanted: str | None = None
) -> Span | None:
    """The best-fitting entity in `sentence`, nearest to the question's words, that the question
    does not name itself; None when no entity fits.

    `question_words` are lower-cased surface words of the question. With `wanted` ("upper" or
    "lower", see `bound`), an amount that states the opposite bound is not an answer.
    """
    spans = [s for s in candidates(sentence, understanding) if not _in_question(s.text, question_words)]
    if wanted:  # amounts of the opposite bound are no answer; one of the asked bound beats an unbounded one
        spans = [s for s in spans if s.label not in NUMERIC or span_bound(s, sentence.text) in (wanted, None)]
        amounts = sorted((s for s in spans if s.label in NUMERIC), key=lambda s: span_bound(s, sentence.text) != wanted)
        if amounts:
            first = span_bound(amounts[0], sentence.text)
            spans = [s for s in amounts if span_bound(s, sentence.text) == first]
    if not spans:
        return None
    top = max(s.fit for s in spans)
    spans = [s for s in spans if s.fit >= 0.5 * top]  # the labels that fit best, then the nearest
    words = list(re.finditer(r"\w+", sentence.text))
    content = question_words - stopwords("english")  # "the" or "was" is no anchor
    anchors = [i for i, m in enumerate(words) if m.group(0).lower() in content]
    if not anchors:
        best = max(spans, key=lambda s: s.fit)
        return replace(best, gap=len(words))

    def gap(span: Span) -> int:
        inside = [i for i, m in enumerate(words) if span.start <= m.start() < span.end]
        lo, hi = (inside[0], inside[-1]) if inside else (0, 0)
        return min(lo - a if a < lo else max(a - hi, 0) for a in anchors)

    best = min(spans, key=lambda s: (gap(s), -s.fit))
    return replace(best, gap=gap(best))


def _in_question(text: str, question_words: set[str]) -> bool:
    words = [w.lower() for w in re.findall(r"\w+", text) if not w.isdigit()]
    return bool(words) and all(w in question_words for w in words)
