"""Follow-up questions → standalone questions, without a language model.

Deterministic rules over the previous turns of a conversation, with the entities that spaCy's
recogniser finds in them (`rag.ingest.analyze.entities`):
- pronouns: "she/he/her/his" become the person most recently named (the last short answer
  that is a PERSON, else the last PERSON in the last question or answer); "it/its/they/them/
  their/this/that" become the topic of the last question ("the study", "the minimum arms estimate");
- ellipsis: a fragment such as "And the maximum?" or "What about Japan?" is read against the
  last standalone question: a word with an opposite in the fragment is swapped
  (minimum → maximum, first → last, …); an entity in the fragment replaces the last entity of
  the same kind in that question ("And in the past three decades?" after "… in 2024?": a date
  for a date; a place for a place, a person for a person); otherwise the fragment is joined to
  the last question;
- anything else (a full question with its own subject) is left as it is.

With a language model configured, `rag.generate.condense` is used instead. This module does
no retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.ingest.analyze import entities
from rag.types import Turn

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
    if (swapped := _swap_entity(core, previous)) is not None:
        return swapped
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


# Entity labels that can stand in for one another in an ellipsis ("And in Japan?" after "… in Seoul?").
_KIND = {"GPE": "place", "LOC": "place", "FAC": "place", "DATE": "time", "TIME": "time", "PERSON": "person",
         "ORG": "org", "NORP": "group", "MONEY": "amount", "CARDINAL": "amount", "QUANTITY": "amount",
         "PERCENT": "amount", "EVENT": "event", "WORK_OF_ART": "work", "LAW": "law", "PRODUCT": "product"}  # fmt: skip


def _swap_entity(fragment: str, previous: str) -> str | None:
    """`previous` with its last entity of the kind the fragment names replaced by the fragment's, or None."""
    new, old = entities([fragment, previous])
    for e in reversed(new):
        kind = _KIND.get(e.label)
        same = [o for o in old if _KIND.get(o.label) == kind] if kind else []
        if same:
            o = same[-1]
            return previous[: o.start] + fragment[e.start : e.end] + previous[o.end :]
    return None


def _last_person(history: Sequence[Turn]) -> str | None:
    for turn in reversed(history):
        texts = [turn.short_answer, turn.standalone_question, turn.answer]
        found = entities([t or "" for t in texts])
        if turn.short_answer and any(e.label == "PERSON" and e.end - e.start == len(turn.short_answer.strip())
                                     for e in found[0]):  # fmt: skip
            return turn.short_answer.strip()
        for text, ents in zip(texts[1:], found[1:]):
            people = [text[e.start : e.end] for e in ents if e.label == "PERSON"]
            if people:
                return people[-1].removesuffix("'s").removesuffix("’s")
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
