"""A bare question word as a follow-up ("When?", "And where?", "How much?"): the previous question
asked again with that word, built from the previous question's dependency parse.

    "Who published the study?"  → "The Friedrich Naumann Foundation"  → "When?"
        → "When did the Friedrich Naumann Foundation publish the study?"
    "How many troops were sent to Russia?"  → "Where?"  → "Where were the troops sent?"…

The previous question's wh-phrase ("who", "which foundation", "how many troops", "on which
side") is taken out. If it was the clause's subject, a subject is put back: the previous short
answer ("who", "which foundation"), or the noun the wh-word asked about ("how many troops" →
"the troops"), and the clause is inverted as English inverts it: its auxiliary goes first ("were
the troops sent"), or "do" is supplied for a verb without one ("did … publish", from the verb's
tag and lemma). Otherwise the clause already has its auxiliary in front, and a preposition the
wh-phrase left stranded at the end ("… estimate X at?") goes too. When the parse gives none of
this (no wh-word, a bare "who" subject with no answer to stand in for it), `reask` returns None
and the caller falls back to joining the fragment to the question. No retrieval happens here.
"""

from __future__ import annotations

from typing import Any

from rag.ingest.analyze import parse
from rag.vocab import WH_TAGS

_DO = {"VBD": "did", "VBZ": "does", "VBP": "do"}  # "do"-support by the verb's tense and person
_SUBJECT = ("nsubj", "nsubjpass")
_MAX_BARE = 4  # words of a bare wh-phrase
_BARE = ("ADJ", "ADV", "ADP", "NOUN", "DET", "PART")  # what may stand beside the wh-word in one
_MAX_OBJECT_WORDS = 6  # a short answer put back as an object: a name or an amount, not a sentence
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
    "Why exactly?", "According to whom?", "In which year?"), so it asks the previous question again."""
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


def reask(fragment: str, previous: str, short_answer: str = "") -> str | None:
    """`previous` asked with the question word(s) of `fragment` instead of its own, or None."""
    doc = parse(previous)
    wh = _first_wh(doc)
    if wh is None:
        return None
    new = fragment.strip().rstrip("?.! ").strip()
    new = new[:1].upper() + new[1:]
    lo, head, noun = _wh_phrase(doc, wh)
    phrase = set(range(lo, head.i + 1))
    rest = [t for t in doc if t.i not in phrase and not (t.is_punct and t.i == len(doc) - 1)]
    verb = head.head if head.head.dep_ not in ("aux", "auxpass") else head.head.head
    misparsed = _do_misparse(verb)
    if head.dep_ in _SUBJECT and not _other_subject(verb, phrase) and not misparsed:
        subject = _subject(doc, wh, noun, short_answer)
        if subject is None:
            return None
        auxes = [t for t in verb.children if t.dep_ in ("aux", "auxpass") and t.i > head.i]
        if auxes:
            first = auxes[0]
            clause = [t.text_with_ws for t in rest if t.i != first.i]
            return _sentence(new, first.text, subject, "".join(clause))
        if verb.tag_ in _DO and verb.lemma_ != "be":
            clause = [(t.lemma_ + t.whitespace_) if t.i == verb.i else t.text_with_ws for t in rest]
            return _sentence(new, _DO[verb.tag_], subject, "".join(clause))
        clause = [t.text_with_ws for t in rest if t.i != verb.i]
        return _sentence(new, verb.text, subject, "".join(clause))
    stranded = None
    if rest and rest[-1].dep_ == "prep" and not list(rest[-1].children):
        stranded, rest = rest[-1], rest[:-1]  # "What did the study estimate X at?": "at" asked with "what"
    words = [t.text_with_ws for t in rest]
    put_back = None  # what the old wh-phrase asked for, put back where it stood
    if doc[lo].dep_ != "prep" and (head.dep_ in ("dobj", "npadvmod") or stranded is not None or misparsed):
        if noun is not None:
            put_back = _object(doc, wh, noun, short_answer)
        elif short_answer and len(short_answer.split()) <= _MAX_OBJECT_WORDS and _adverbial(fragment):
            put_back = _mid_sentence(short_answer.strip())  # "How much could X earn?" … "According to whom?"
    if put_back is not None and stranded is not None:
        words = ["".join(words).rstrip() + f" {stranded.text} {put_back}"]  # "… put the cost at $4 million?"
    elif put_back is not None:
        at = next((k + 1 for k, t in enumerate(rest) if t.i == head.head.i and not misparsed), len(words))
        if at > 0 and not words[at - 1].endswith(" "):
            words[at - 1] += " "
        words.insert(at, put_back + " ")
    return f"{new} {''.join(words).strip()}?"


def _adverbial(fragment: str) -> bool:
    """Whether a wh-phrase asks about circumstances (when, where, why, according to whom, in which
    year), not about a thing or an amount that could take the old answer's place."""
    doc = parse(fragment)
    wh = _first_wh(doc)
    if wh is None:
        return False
    if any(t.tag_ == "IN" or _preposition_verb(t) for t in doc if t.i < wh.i):
        return True
    return wh.tag_ == "WRB" and not (wh.i + 1 < len(doc) and doc[wh.i + 1].lower_ in ("much", "many"))


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


def _do_misparse(verb: Any) -> bool:
    """The small model reads "Which bridge did the council close?" as "did" (a main verb) with the
    object "the council" and "close" hanging on it, or "the council close" as one noun: words
    after the object, or a compound before its head, are a clause after an auxiliary "did",
    whose subject the wh-phrase is not ("Which foundation did the study?" is neither)."""
    if verb.lemma_ != "do":
        return False
    objects = [c for c in verb.children if c.dep_ == "dobj"]
    if not objects:
        return False
    last = max(t.i for t in objects[0].subtree)
    after = [t for t in verb.doc[last + 1 :] if not t.is_punct]
    return bool(after) or any(g.dep_ == "compound" for g in objects[0].children)


def _other_subject(verb: Any, phrase: set[int]) -> bool:
    return any(c.dep_ in _SUBJECT and c.i not in phrase for c in verb.children)


def _subject(doc: Any, wh: Any, noun: Any, short_answer: str) -> str | None:
    """What stands for the answer as the subject: the short answer for "who" / "which X", the
    noun for "how many X" ("the troops"), else nothing."""
    counted = wh.lower_ == "how"
    if short_answer and not counted:
        return _mid_sentence(short_answer.strip())
    return _asked_noun(doc, wh, noun) if noun is not None else None


def _object(doc: Any, wh: Any, noun: Any, short_answer: str) -> str:
    if short_answer and wh.lower_ != "how" and len(short_answer.split()) <= _MAX_OBJECT_WORDS:
        return _mid_sentence(short_answer.strip())
    return _asked_noun(doc, wh, noun)


def _asked_noun(doc: Any, wh: Any, noun: Any) -> str:
    """The noun the wh-phrase asked about, as a definite phrase: "which foundation" → "the
    foundation", "how many North Korean troops" → "the North Korean troops"."""
    return "the " + doc[wh.i + (2 if wh.lower_ == "how" else 1) : noun.i + 1].text


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


def _sentence(new: str, aux: str, subject: str, clause: str) -> str:
    return f"{new} {aux} {subject} {clause.strip()}".rstrip() + "?"
