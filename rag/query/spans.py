"""Short answers inside a sentence: what kind of answer a question wants, and where it is.

`question_kind("How much …?")` → "quantity"; `candidates(sentence, kind)` → the spans of that
kind (amounts with their qualifiers such as "over" or "up to", dates, names) as offsets into the
sentence; `best_span` picks the candidate nearest to the words the sentence shares with the
question. Rules are about English question forms and number/date/name shapes, never about
particular articles. Kinds without a reliable span shape (why, what, how) answer with the whole
sentence. This module does no retrieval and no scoring of sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.vocab import MONTH_PATTERN, quantities

_KINDS = (
    ("date", re.compile(r"^\s*(when|since when|until when)\b|\bwhat (date|day|year|month|time)\b|\bwhich (date|day|year|month)\b", re.I)),
    ("quantity", re.compile(
        r"\bhow (much|many|large|big|high|low|long|far|old|often)\b|\bwhat (percentage|share|proportion|number|amount|sum|value|cost|price|size)\b"
        r"|\b(minimum|maximum|total|number|amount|estimate|estimated|worth|cost|price|value|figure|count|sum|revenue|how much)\b",
        re.I,
    )),
    ("person", re.compile(r"^\s*(who|whom|whose)\b|\b(which|what) (person|official|author|leader|president|analyst|researcher|journalist|reporter)\b", re.I)),
    ("place", re.compile(r"^\s*where\b|\b(which|what) (country|city|place|region|state|capital)\b", re.I)),
)  # fmt: skip

_MONTH = rf"(?:{MONTH_PATTERN})\.?"
_DATE = re.compile(
    rf"\b(?:(?:on|since|in|by|until|from)\s+)?(?:{_MONTH}\s+\d{{1,2}}\b(?:,\s*\d{{4}})?|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}|(?:19|20)\d\d(?:-\d\d-\d\d)?|(?:this|last|next) (?:fall|spring|summer|winter|year|month|week))",
)
_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)+")
_NAME = re.compile(r"\b[A-Z][\w'’.-]+(?:\s+(?:(?:de|van|von|al|bin|la)\s+)?[A-Z][\w'’.-]+){0,3}")
_NAME_STOP = {"The", "A", "An", "But", "And", "In", "On", "Since", "This", "That", "It", "As", "Because", "Meanwhile"}


@dataclass(frozen=True)
class Span:
    start: int  # offsets into the sentence text
    end: int
    text: str
    gap: int = 0  # words between the span and the nearest question word in the sentence


_UPPER_Q = re.compile(r"\b(maximum|max|highest|upper|largest|biggest|most|at most|ceiling|peak)\b", re.I)
_LOWER_Q = re.compile(r"\b(minimum|min|lowest|lower|smallest|least|at least|floor)\b", re.I)
_UPPER_WORD = re.compile(r"maximum|max|highest|largest|ceiling|peak")
_LOWER_WORD = re.compile(r"minimum|min|lowest|smallest|floor")
_BOUND_WINDOW = 6
_UPPER_SPAN = re.compile(r"^(up to|at most|as many as|as much as|under|below|fewer than|less than)\b", re.I)
_LOWER_SPAN = re.compile(r"^(over|more than|at least|above|minimum)\b", re.I)


# Question verbs and the words an article uses for the same relation ("who wrote" → "author").
# General English, used only to credit a sentence for covering a question word; never an answer.
PARAPHRASES = {
    "wrote": ("author", "writer", "written"),
    "write": ("author", "writer", "written"),
    "written": ("author", "writer", "wrote"),
    "authored": ("author", "wrote"),
    "led": ("leader", "head", "headed"),
    "lead": ("leader", "head"),
    "founded": ("founder", "established"),
    "published": ("released", "publication", "issued"),
    "released": ("published", "publication", "issued"),
    "said": ("told", "according", "stated", "added"),
    "say": ("said", "told", "according", "stated", "added"),
    "says": ("said", "told", "according", "stated", "added"),
    "need": ("needs", "require", "requires", "necessity"),
    "needs": ("need", "require", "requires", "necessity"),
    "owns": ("owner",),
    "owned": ("owner",),
    "directed": ("director",),
    "invented": ("inventor",),
    "died": ("death", "killed"),
    "killed": ("died", "death", "deaths"),
    "cost": ("price", "worth", "value"),
    "worth": ("value", "valued", "cost"),
    "sent": ("deployed", "deployment", "sending"),
    "send": ("deploy", "deployment", "sending"),
    "deploy": ("deployment", "sent", "send"),
}


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
    if _UPPER_SPAN.match(span.text):
        return "upper"
    if _LOWER_SPAN.match(span.text):
        return "lower"
    return None


_DESCRIBE = re.compile(
    r"^\s*(?i:who|what)\s+(?i:is|was|are|were)\s+(?:the\s+)?[A-Z][\w'’-]*(\s+[A-Z][\w'’-]*)*\s*\??\s*$"
)


def question_kind(question: str) -> str:
    """One of "date", "quantity", "person", "place", or "other" (answer with a sentence).

    "Who is Olena Guseinova?" asks for a description, not for a name: "other"."""
    if _DESCRIBE.match(question):
        return "other"
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return "other"


def candidates(sentence: str, kind: str) -> list[Span]:
    """Spans of `sentence` that have the shape of a `kind` answer."""
    if kind == "quantity":
        return [Span(m.start(), m.end(), m.group(0)) for m in quantities(sentence)]
    if kind == "date":
        return [Span(m.start(), m.end(), m.group(0)) for m in _DATE.finditer(sentence)]
    if kind in ("person", "place"):
        out = []
        for m in _NAME.finditer(sentence):
            words = m.group(0).split()
            while words and words[0] in _NAME_STOP:
                words = words[1:]
            if not words:
                continue
            if kind == "person" and len(words) < 2:
                continue  # a lone capitalised word is far more often a place or a sentence start
            text = " ".join(words).rstrip(".,")
            start = sentence.index(text, m.start())
            out.append(Span(start, start + len(text), text))
        return out
    return []


def best_span(sentence: str, kind: str, question_words: set[str], wanted: str | None = None) -> Span | None:
    """The candidate of `kind` nearest to the question's words in `sentence`, not found in the question.

    `question_words` are lower-cased surface words of the question. With `wanted` ("upper" or
    "lower", see `bound`), a quantity that states the opposite bound is not an answer.
    """
    spans = [s for s in candidates(sentence, kind) if not _in_question(s.text, question_words)]
    if wanted:
        spans = [s for s in spans if span_bound(s, sentence) in (wanted, None)]
        spans.sort(key=lambda s: span_bound(s, sentence) != wanted)
        spans = [s for s in spans if span_bound(s, sentence) == span_bound(spans[0], sentence)] if spans else []
    if not spans:
        return None
    words = list(re.finditer(r"\w+", sentence))
    anchors = [i for i, m in enumerate(words) if m.group(0).lower() in question_words]
    if not anchors:
        return replace(spans[0], gap=len(words))

    def gap(span: Span) -> int:
        inside = [i for i, m in enumerate(words) if span.start <= m.start() < span.end]
        lo, hi = (inside[0], inside[-1]) if inside else (0, 0)
        return min(lo - a if a < lo else max(a - hi, 0) for a in anchors)

    best = min(spans, key=gap)
    return replace(best, gap=gap(best))


def _in_question(text: str, question_words: set[str]) -> bool:
    words = [w.lower() for w in re.findall(r"\w+", text) if not w.isdigit()]
    return bool(words) and all(w in question_words for w in words)
