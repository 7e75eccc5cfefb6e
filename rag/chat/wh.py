"""Wh-phrases read from a question's dependency parse:

- `is_bare_wh`: a follow-up that is a wh-phrase alone ("When?", "According to whom?"), which
  the rewriter reads against the last question, as a fragment;
- `statement`: the statement a question asks about, when its wh-phrase is its subject and asks
  about a noun ("How many ferries were cancelled in Dover?" → "ferries were cancelled in Dover"),
  which an object "it" of the next question can stand for ("Who confirmed it?").

No retrieval happens here.
"""

from __future__ import annotations

from typing import Any

from rag.ingest.analyze import parse
from rag.vocab import WH_TAGS

_SUBJECT = ("nsubj", "nsubjpass")
_MAX_BARE = 4  # words of a bare wh-phrase
_BARE = ("ADJ", "ADV", "ADP", "NOUN", "DET", "PART")  # what may stand beside the wh-word in one
_NAMES = (
    "PERSON",
    "ORG",
    "GPE",
    "LOC",
    "FAC",
    "NORP",
    "EVENT",
    "WORK_OF_ART",
    "LAW",
    "PRODUCT",
    "LANGUAGE",
)  # entity labels of names, which keep their capital inside a sentence


def is_bare_wh(fragment: str) -> bool:
    """Whether `fragment` is a wh-phrase alone, without a verb or a name ("When?", "How much?",
    "Why exactly?", "According to whom?", "In which year?"), so it is read with the last question."""
    doc = parse(fragment)
    words = [t for t in doc if not t.is_punct]
    return (
        0 < len(words) <= _MAX_BARE
        and any(t.tag_ in WH_TAGS for t in words)
        and all(t.tag_ in WH_TAGS or t.pos_ in _BARE or t.tag_ == "IN" or _preposition_verb(t) for t in words)
    )


def _preposition_verb(token: Any) -> bool:
    """A participle that works as a preposition: "according (to whom)", "depending (on what)"."""
    return token.tag_ == "VBG" and any(c.dep_ == "prep" for c in token.children)


def _first_wh(doc: Any) -> Any:
    return next((t for t in doc if t.tag_ in WH_TAGS), None)


def statement(previous: str, short_answer: str = "") -> str | None:
    """`previous` as the statement it asks about, when its wh-phrase is its subject and asks about
    a noun: "How many North Korean troops were sent to Russia?" → "North Korean troops were sent
    to Russia"; "Which foundation did the study?" → "the foundation did the study" (or, with its
    short answer, "the Friedrich Naumann Foundation did the study"). Else None."""
    doc = parse(previous)
    wh = _first_wh(doc)
    if wh is None:
        return None
    lo, head, noun = _wh_phrase(doc, wh)
    if noun is None or lo != wh.i or head.dep_ not in _SUBJECT:
        return None
    if wh.lower_ == "how":
        return doc[wh.i + 2 :].text.rstrip("?.! ")
    subject = _mid_sentence(short_answer.strip()) if short_answer.strip() else _asked_noun(doc, wh, noun)
    return f"{subject} {doc[noun.i + 1 :].text.rstrip('?.! ')}"


def _wh_phrase(doc: Any, wh: Any) -> tuple[int, Any, Any]:
    """(first token, head token, the noun asked about or None) of the phrase the wh-word heads:
    "who"; "which foundation"; "how many troops"; "on which side" (a fronted preposition too)."""
    noun = None
    head = wh
    if wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN") and wh.head.i > wh.i:
        noun = head = wh.head
    elif wh.lower_ == "how" and wh.i + 1 < len(doc) and doc[wh.i + 1].pos_ in ("ADJ", "ADV"):
        adjective = doc[wh.i + 1]
        head = adjective
        if adjective.head.pos_ == "NOUN" and adjective.head.i > adjective.i:
            noun = head = adjective.head
    lo = wh.i
    if lo > 0 and doc[lo - 1].dep_ == "prep" and doc[lo - 1].i == head.head.i:
        lo -= 1
    return lo, head, noun


def _asked_noun(doc: Any, wh: Any, noun: Any) -> str:
    """The noun the wh-phrase asked about, as a definite phrase: "which foundation" → "the
    foundation"."""
    return "the " + doc[wh.i + 1 : noun.i + 1].text


def _mid_sentence(text: str) -> str:
    """A phrase as it reads inside a sentence: "The Friedrich Naumann Foundation" → "the …",
    "Hundreds of dollars" → "hundreds …"; a name keeps its capital."""
    if not text:
        return text
    first = parse(text)[0]
    named = first.pos_ == "PROPN" or first.ent_type_ in _NAMES
    if first.text.istitle() and (first.pos_ == "DET" or not named):
        return first.text.lower() + text[len(first.text) :]
    return text
