"""Follow-up questions → standalone questions, without a language model.

Deterministic rules over the previous turns of a conversation, with the entities that spaCy's
recogniser finds in them (`rag.ingest.analyze.entities`):
- pronouns: "she/he/her/his" become the person most recently named (the last short answer
  that is a PERSON, else the last PERSON in the last question or answer); "it/its/they/them/
  their/this/that" become the topic of the last question, read from its parse ("the study",
  "the minimum estimate of arms shipments");
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
from typing import Any

from rag.ingest.analyze import entities, parse
from rag.query.understand import WH_TAGS
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
_SKIP_TOPIC = {"corpus", "question", "briefing"}


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
    """The thing the last question was about, from its parse: its last main argument (subject,
    object or attribute, with what depends on it: "the minimum estimate of arms shipments") that
    is not the wh-phrase, what the wh-word asked for, a pronoun or a person; else its last such
    noun phrase."""
    for turn in reversed(history):
        doc = parse(turn.standalone_question)
        asked = _asked_for(doc)
        chunks = [c for c in doc.noun_chunks if _can_be_it(c) and c.root not in asked]
        main = [c for c in chunks if c.root.dep_ in ("nsubj", "nsubjpass", "dobj", "attr")]
        if main:
            subtree = list(main[-1].root.subtree)
            topic = doc[subtree[0].i : subtree[-1].i + 1].text
        elif chunks:
            topic = chunks[-1].text
        else:
            continue
        first, _, rest = topic.partition(" ")
        return f"the {rest}" if first.lower() in ("a", "an", "this", "that") and rest else topic
    return None


def _asked_for(doc: Any) -> set[Any]:
    """In "Who is the author of the study?" the author is what was asked for (the answer, a
    person), not the topic: the other argument of a copula whose subject or attribute is "who"."""
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or root.lemma_ != "be":
        return set()
    args = [t for t in root.children if t.dep_ in ("nsubj", "attr")]
    who = any(t.lower_ in ("who", "whom") for t in args)  # "what was the estimate": the estimate is the topic
    return {t for t in args if t.tag_ not in WH_TAGS} if who else set()


def _can_be_it(chunk: Any) -> bool:
    if any(t.tag_ in WH_TAGS or t.pos_ == "PRON" for t in chunk):
        return False
    if chunk.root.ent_type_ == "PERSON":
        return False
    return chunk.root.lemma_.lower() not in _SKIP_TOPIC


def _same_case(template: str, word: str) -> str:
    return word.capitalize() if template[:1].isupper() else word
