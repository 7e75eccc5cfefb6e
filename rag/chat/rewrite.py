"""Follow-up questions → standalone questions, without a language model.

Deterministic rules over the previous turns of a conversation:
- pronouns: "she/he/her/his" become the person most recently named (the last short answer
  that was a name, else a name in the last question or answer); "it/its/they/them/their/this/
  that" become the topic of the last question ("the study", "the minimum arms estimate");
- ellipsis: a fragment such as "And the maximum?" or "What about Japan?" is read against the
  last standalone question: a word with an opposite in the fragment is swapped
  (minimum → maximum, first → last, …), a year replaces the last year, a name replaces the last
  name, otherwise the fragment is joined to the last question;
- anything else (a full question with its own subject) is left as it is.

With a language model configured, `rag.generate.condense` is used instead. This module does
no retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.types import Turn
from rag.vocab import MULTIWORD_NAME

_PERSON = {"she": "", "he": "", "her": "'s", "his": "'s", "him": "", "hers": "'s"}
_THING = {
    "it": "",
    "its": "'s",
    "they": "",
    "them": "",
    "their": "'s",
    "this": "",
    "that": "",
    "these": "",
    "those": "",
}
_LEAD = re.compile(r"^\s*(and|but|also|so|then|ok|okay)?\s*(what|how)\s+about\s+|^\s*(and|but|also|so|then)\s+", re.I)
_WH = re.compile(
    r"^\s*(who|whom|whose|what|when|where|why|how|which|is|are|was|were|do|does|did|can|could|will|would|has|have|had)\b",
    re.I,
)
_OPPOSITES = [
    ("minimum", "maximum"), ("lowest", "highest"), ("least", "most"), ("smallest", "largest"), ("first", "last"),
    ("earliest", "latest"), ("before", "after"), ("min", "max"), ("lower", "upper"), ("fewest", "most"),
]  # fmt: skip
_TOPIC = re.compile(
    r"\b(?:the|this|that|these|those|a|an)\s+((?:[\w'’-]+\s+){0,3}?[\w'’-]+(?:\s+of\s+(?:[\w'’-]+\s+){0,2}[\w'’-]+)?)"
    r"(?=\s+(?:is|was|were|are|has|have|had|did|do|does|say|said|published|released|written|wrote|by|in|on|for|to|from)\b|\s*[?.!,]|$)",
    re.I,
)
_SKIP_TOPIC = {"briefing corpus", "corpus", "question"}


def is_follow_up(question: str) -> bool:
    words = re.findall(r"[\w'’]+", question.lower())
    return bool(_LEAD.match(question)) or not _WH.match(question) or any(w in _PERSON or w in _THING for w in words)


def rewrite(question: str, history: Sequence[Turn]) -> str:
    """A standalone version of `question` given the earlier turns (oldest first)."""
    if not history or not is_follow_up(question):
        return question
    last = history[-1]
    fragment = _LEAD.sub("", question).strip()
    if not _WH.match(fragment) and len(fragment.split()) <= 5:
        return _fill_ellipsis(fragment, last.standalone_question)
    return _resolve_pronouns(question, history)


def _fill_ellipsis(fragment: str, previous: str) -> str:
    core = fragment.rstrip("?.! ")
    for a, b in _OPPOSITES:
        for new, old in ((a, b), (b, a)):
            if re.search(rf"\b{new}\b", core, re.I) and re.search(rf"\b{old}\b", previous, re.I):
                return re.sub(rf"\b{old}\b", lambda m, n=new: _same_case(m.group(0), n), previous, flags=re.I)
    years, old_years = re.findall(r"\b(?:19|20)\d\d\b", core), re.findall(r"\b(?:19|20)\d\d\b", previous)
    if years and old_years:
        head, sep, tail = previous.rpartition(old_years[-1])
        return head + years[-1] + tail
    names = MULTIWORD_NAME.findall(previous)
    if names and core[:1].isupper() and core.split()[0].lower() not in ("the", "a", "an"):
        return previous.replace(names[-1], core)
    return f"{previous.rstrip('?.! ')}: {core}?"


def _resolve_pronouns(question: str, history: Sequence[Turn]) -> str:
    person = _last_person(history)
    topic = _last_topic(history)

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if low in _PERSON and person:
            return person + _PERSON[low]
        if low in _THING and topic:
            return topic + _THING[low]
        return word

    return re.sub(r"\b[\w'’]+\b", swap, question)


def _last_person(history: Sequence[Turn]) -> str | None:
    for turn in reversed(history):
        if turn.short_answer and MULTIWORD_NAME.fullmatch(turn.short_answer):
            return turn.short_answer
        for text in (turn.standalone_question, turn.answer):
            names = [n for n in MULTIWORD_NAME.findall(text) if not _WH.match(n)]
            if names:
                return names[-1]
    return None


def _last_topic(history: Sequence[Turn]) -> str | None:
    for turn in reversed(history):
        found = [m.group(0) for m in _TOPIC.finditer(turn.standalone_question)]
        found = [f for f in found if f.split(maxsplit=1)[-1].lower() not in _SKIP_TOPIC]
        if found:
            topic = found[-1]
            return (
                "the " + topic.split(maxsplit=1)[1]
                if topic.split()[0].lower() in ("a", "an", "this", "that")
                else topic
            )
    return None


def _same_case(template: str, word: str) -> str:
    return word.capitalize() if template[:1].isupper() else word
