"""Follow-up questions → standalone questions, without a language model.

A follow-up is always searched together with the last turn and read from the conversation's
focus (`rag.query.answerer.read_corpus`), so this module rewrites only what measurably helps on
the seed and news conversations (`make eval`, `make eval-news`), read from spaCy's parse and
entities (`rag.ingest.analyze`):
- "she/he/her/his" become the person most recently named (the PERSON the last short answer
  names, "Dave Collins" in "Psychologist Dave Collins", else the last PERSON in the last question
  or answer);
- "its", "they" and "their" after a proper name of their own question that they can stand for
  stay ("Who has UK Athletics appointed as its new director?"): for "its" an organisation, place,
  facility, product, work, event or law; for "they/their" an organisation, place or group;
- "they/them/their" become the people the last question named together ("Putin and Kim Jong
  Un"); else, like "it/its/this/that" (as pronouns, not as determiners), the topic of the last
  question, read from its parse ("the study", "the minimum estimate of arms shipments"). An "it"
  that is a verb's object, after a question whose only noun phrase outside its wh-phrase is not a
  main argument or is plural, is what that question asked about ("How many troops were sent to
  Russia?" … "Who confirmed it?" → "… confirmed that troops were sent to Russia?");
- a fragment ("And in 2003?", "What about Japan?", "When?") is read against the last standalone
  question, and takes the place of its counterpart there: the last entity of its kind ("And in
  the past three decades?" after "… in 2024?"; "And Gibraltar?" after "Who represents Spain?",
  a place once the small model reads it in the question), the noun phrase of its head noun
  ("And the non-fiction prize?" after "Who won the fiction prize?") or the question's one
  adjective ("And the maximum?" after "What was the minimum estimate?"); otherwise it is joined
  to it ("Who was named commissioner: his budget?");
- anything else (a full question with its own subject, "there") is left as it is.

With a language model configured, `rag.llm.generate.condense` is used instead. This module does
no retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.chat.wh import is_bare_wh, statement
from rag.ingest.analyze import entities, parse
from rag.types import Turn
from rag.vocab import WH_TAGS

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
_SKIP_TOPIC = {"corpus", "question", "briefing"}


def is_follow_up(question: str) -> bool:
    words = re.findall(r"[\w'’]+", question.lower())
    return (
        bool(_LEAD.match(question))
        or not _WH.match(question)
        or any(w in _PERSON or w in _THING or w == "there" for w in words)
        or (len(words) <= 2 and is_bare_wh(question))
    )


def rewrite(question: str, history: Sequence[Turn]) -> str:
    """A standalone version of `question` given the earlier turns (oldest first)."""
    if not history or not is_follow_up(question):
        return question
    last = history[-1]
    fragment = _LEAD.sub("", question).strip()
    if is_bare_wh(fragment) or (not _WH.match(fragment) and len(fragment.split()) <= 5):
        return _fill_ellipsis(fragment, last.standalone_question)
    return _resolve_pronouns(question, history)


def _fill_ellipsis(fragment: str, previous: str) -> str:
    core = fragment.rstrip("?.! ")
    if core:  # "and ?" has nothing to swap
        said, last = parse(core), parse(previous)  # each parsed once, for every way of swapping
        for swap in (_swap_entity, _swap_in_place, _swap_head, _swap_modifier):
            if (swapped := swap(said, last)) is not None:
                return swapped
    return f"{previous.rstrip('?.! ')}: {core}?"


def _resolve_pronouns(question: str, history: Sequence[Turn]) -> str:
    """Each pronoun of `question` replaced by what it stands for: "she/he" the last person named;
    "they/them/their" the people the last question named together ("Putin and Kim Jong Un"), else
    its topic; "it/its/this/that" the last question's topic, or, as a verb's object, the event it
    asked about. The turns are read only for the pronouns the question has."""
    doc = parse(question)
    last = history[-1]
    said = {t.lower_ for t in doc}
    person = _last_person(history) if said & _PERSON.keys() else None
    topic = _last_topic(history) if said & _THING.keys() else None
    people = _people(last.standalone_question) if said & {"they", "them", "their"} else None

    def swapped(thing: str | None) -> str:
        out, named = [], question.lower()
        for t in doc:
            low, word = t.lower_, t.text
            if _bound(doc, t):
                pass  # "Who has UK Athletics appointed as its director?": the question names what "its" is
            elif low in _PERSON and person:
                word = _name_once(person, _PERSON[low], word, named)
            elif low in ("they", "them", "their") and people:
                word = _name_once(people, _THING[low], word, named)
            elif low in _THING and thing and t.pos_ == "PRON":  # not "this study", not "said that …"
                word = _name_once(thing, _THING[low], word, named)
            if word != t.text:
                named += " " + word.lower()
            out.append(word + t.whitespace_)
        return "".join(out)

    event = _object_event(doc, last)
    if event is not None and not _main_singular(last.standalone_question):
        # "How many troops were sent to Russia?" … "Who confirmed it?": what was confirmed is that
        # troops were sent, not Russia, the one noun phrase outside the wh-phrase; nor is "it"
        # the troops in "Which country sent troops?" … "Who confirmed it?".
        return swapped(event)
    return swapped(topic)


def _name_once(name: str, suffix: str, pronoun: str, named: str) -> str:
    """`name` (with `suffix`, "'s" for a possessive) in the place of `pronoun`, unless the question
    already names it, in its own words or in an earlier replacement: then the pronoun stays, as
    English writes it ("How old was Ryan Giggs when he won his first cap?", not "… when Ryan Giggs
    won Ryan Giggs's first cap"; in "How much will they pay Rangers?" "they" is not Rangers)."""
    bare = name.lower().removeprefix("the ")
    if re.search(rf"(?<!\w){re.escape(bare)}(?!\w)", named):
        return pronoun
    return name + ("'" if suffix == "'s" and name.endswith("s") else suffix)  # "the Liberal Democrats' donor"


# What "its", "they" and "their" stand for when the question itself names one before them: a
# proper name of these kinds ("the Liberal Democrats", not the adjective in "the Russian
# invasion"). Not "it" or "them", which are most often another thing than their own clause's
# names ("What did China say about it?"), nor "he" and "she", which are left to the last turn (the
# small model takes "Oscar" or "Benin" for a person).
_PRONOUN_KINDS = {
    "its": frozenset({"ORG", "GPE", "LOC", "FAC", "PRODUCT", "WORK_OF_ART", "EVENT", "LAW"}),
    **{word: frozenset({"ORG", "GPE", "NORP"}) for word in ("they", "their")},
}


def _bound(doc: Any, token: Any) -> bool:
    """Whether pronoun `token` refers back to a name earlier in its own question: a proper name of
    a kind it can stand for ("UK Athletics" for "its" in "Who has UK Athletics appointed as its new
    performance director?"), which a rewrite from the last turn would replace with something else."""
    if _in_clause_of_subject(token):
        return True
    kinds = _PRONOUN_KINDS.get(token.lower_)
    if not kinds:
        return False
    if any(e.label_ in kinds and e.root.pos_ == "PROPN" and e.end <= token.i for e in doc.ents):
        return True
    # a name the small model does not know, as the subject: "How many viewers did the Two Ronnies attract at its peak?"
    return any(
        c.root.pos_ == "PROPN" and c.root.dep_ in ("nsubj", "nsubjpass") and not c.root.ent_type_ and c.end <= token.i
        for c in doc.noun_chunks
    )


def _in_clause_of_subject(token: Any) -> bool:
    """Whether `token` is in an adverbial clause ("if it sells", "when she died") of a question
    whose own subject is a noun before it: the pronoun is that subject ("How much will the Band
    Aid single raise if it sells 500,000 copies?"), not something from the last turn."""
    clause = token.head
    if clause.dep_ != "advcl":
        return False
    plural = token.lower_ in ("they", "them", "their")  # and agrees in number with it ("officials … after he won": not)
    subjects = [c for c in clause.head.children if c.dep_ in ("nsubj", "nsubjpass") and c.i < token.i]
    return any(
        c.pos_ in ("NOUN", "PROPN")
        and (c.tag_ in ("NNS", "NNPS")) == plural
        and not any(t.tag_ in WH_TAGS for t in c.subtree)
        for c in subjects
    )


def _object_event(doc: Any, last: Turn) -> str | None:
    """For an "it" that is a verb's object and the question's only thing pronoun ("Who confirmed
    it?"), what the last question asked about as a that-clause ("that troops were sent to Russia")."""
    things = [t for t in doc if t.lower_ in _THING and t.pos_ == "PRON"]
    if len(things) != 1 or things[0].lower_ != "it" or things[0].dep_ != "dobj":
        return None
    event = statement(last.standalone_question, "" if last.abstained else last.short_answer)
    return f"that {event}" if event else None


def _people(question: str) -> str | None:
    """The people a question names together ("Putin and Kim Jong Un"), as it writes them."""
    doc = parse(question)
    for e in doc.ents:
        if e.label_ != "PERSON":
            continue
        joined = [c for c in e.root.conjuncts if c.ent_type_ == "PERSON" and c.i > e.root.i]
        if joined:
            last = next(x for x in doc.ents if x.start <= joined[-1].i < x.end)
            return doc[e.start : last.end].text
    return None


# Entity labels that can stand in for one another in an ellipsis ("And in Japan?" after "… in Seoul?").
_KIND = {"GPE": "place", "LOC": "place", "FAC": "place", "DATE": "time", "TIME": "time", "PERSON": "person",
         "ORG": "group", "NORP": "group", "MONEY": "amount", "CARDINAL": "amount", "QUANTITY": "amount",
         "PERCENT": "amount", "EVENT": "event", "WORK_OF_ART": "work", "LAW": "law", "PRODUCT": "product",
         "ORDINAL": "order"}  # fmt: skip


# A swap takes the fragment and the last question, each parsed (`spacy.tokens.Doc`), and gives the
# last question with the fragment in the place of its counterpart, or None.


def _swap_entity(said: Any, last: Any) -> str | None:
    """The last question with its last entity of the kind the fragment names replaced by the fragment's."""
    fragment, previous = said.text, last.text
    new, old = entities([fragment, previous])
    asked = [t.idx for t in said if t.tag_ in WH_TAGS]
    for e in reversed(new):
        kind = _KIND.get(e.label)
        if any(e.start <= i < e.end for i in asked):
            continue  # "In what year?" asks for a date: there is none to put in the question
        if kind == "order" and (fragment[: e.start].strip().lower() not in ("", "the") or fragment[e.end :].strip()):
            continue  # "the second leg": the leg is more than the order ("And the second?")
        same = [o for o in old if _KIND.get(o.label) == kind] if kind else []
        if same:
            o = same[-1]
            name = fragment[_name_start(said, e, previous[: o.start]) : e.end]
            return (
                previous[: o.start] + (name[:1].lower() + name[1:] if name[:4] == "The " else name) + previous[o.end :]
            )
    return None


def _name_start(doc: Any, entity: Any, before: str) -> int:
    """Where the name of `entity` starts in its noun phrase, with its "the" unless `before` (the
    text it goes after) ends with one: the small model often leaves out a proper noun or adjective
    before it ("Democrats" in "the Liberal Democrats"), and "the" ("How much did the Conservatives
    receive?", not "did Conservatives")."""
    chunk = next((c for c in doc.noun_chunks if c.start_char <= entity.start < c.end_char), None)
    if chunk is None:
        return entity.start
    words = [t for t in chunk if t.idx < entity.start]
    the = words[0] if words and words[0].lower_ == "the" and not before.lower().endswith("the ") else None
    while words and words[0].pos_ not in ("PROPN", "ADJ"):
        words.pop(0)
    start = words[0].idx if words and all(t.pos_ in ("PROPN", "ADJ") for t in words) else entity.start
    return the.idx if the is not None else start


def _swap_in_place(said: Any, last: Any) -> str | None:
    """The last question with one of its entities (the last first) replaced by the fragment, when
    the fragment, read in its place, is an entity of the same kind: "And Gibraltar?" after "Who is
    representing Spain?" (alone, "Gibraltar" is no entity to the small model; in the question it
    is a place; alone, "Prescott" is an organisation, in "What did Blair say?" a person)."""
    fragment, previous = said.text, last.text
    if len(fragment.split()) > 4:
        return None
    places = [o for o in reversed(entities([previous])[0]) if o.label in _KIND]
    candidates = [previous[: o.start] + fragment + previous[o.end :] for o in places]
    for o, candidate, found in zip(places, candidates, entities(candidates)):  # one pass of the model for all
        end = o.start + len(fragment)
        if any(_KIND.get(e.label) == _KIND[o.label] and e.start == o.start and e.end == end for e in found):
            return candidate
    return None


def _swap_head(said: Any, last: Any) -> str | None:
    """The last question with its noun phrase of the fragment's head noun replaced by the fragment:
    "And the non-fiction prize?" after "Who won the fiction prize at the awards?". Its owner stays
    when the fragment names none ("And the pre-tax profit?" after "What was Tesco's profit?":
    "Tesco's pre-tax profit")."""
    fragment, previous, doc = said.text, last.text, said
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or root.pos_ not in ("NOUN", "PROPN"):
        return None
    owned = any(t.dep_ == "poss" for t in root.children)
    for chunk in reversed(list(last.noun_chunks)):
        if chunk.root.lemma_.lower() != root.lemma_.lower() or chunk.text.lower() == fragment.lower():
            continue
        owner = [t for t in chunk.root.children if t.dep_ == "poss"]
        if owner and not owned:  # after the owner and its "'s"
            start = max(t.idx + len(t.text) for t in owner[0].subtree)
            words = fragment[doc[1].idx :] if doc[0].pos_ == "DET" and len(doc) > 1 else fragment
            return f"{previous[:start]} {words}{previous[chunk.end_char :]}"
        lead = fragment[:1].lower() + fragment[1:] if doc[0].pos_ == "DET" else fragment  # "The prize" mid-question
        return previous[: chunk.start_char] + lead + previous[chunk.end_char :]
    return None


def _swap_modifier(said: Any, last: Any) -> str | None:
    """The last question with its one adjective replaced by the fragment's one word after "the",
    when that word is an adjective there too: "And the maximum?" after "What was the minimum
    estimate of arms shipments?" ("the maximum estimate")."""
    previous = last.text
    words = [t for t in said if t.pos_ != "DET"]
    if said[0].pos_ != "DET" or len(words) != 1 or words[0].pos_ not in ("ADJ", "NOUN") or words[0].ent_type_:
        return None  # "the maximum", not a remark ("Interesting.")
    modifiers = [t for t in last if t.dep_ == "amod" and t.pos_ == "ADJ" and not t.ent_type_]
    if len(modifiers) != 1 or modifiers[0].lower_ == words[0].lower_:
        return None
    m = modifiers[0]
    candidate = previous[: m.idx] + words[0].text + previous[m.idx + len(m.text) :]
    # an adjective in its place too ("the maximum estimate"), not a noun ("the cost estimate")
    placed = next((t for t in parse(candidate) if t.idx == m.idx), None)
    return candidate if placed is not None and placed.dep_ == "amod" else None


def _last_person(history: Sequence[Turn]) -> str | None:
    for turn in reversed(history):
        texts = [turn.short_answer, turn.standalone_question, turn.answer]
        found = entities([t or "" for t in texts])
        # the answer to the last question, when it is a person's name, perhaps after a title
        # ("Psychologist Dave Collins"; not "Maurice Greene and Kim Collins", nor "talks with Tony Blair")
        named = [e for e in found[0] if e.label == "PERSON"]
        if len(named) == 1 and _titled(turn.short_answer, named[0].start, named[0].end):
            return turn.short_answer[named[0].start : named[0].end]
        for text, ents in zip(texts[1:], found[1:]):
            people = [text[e.start : e.end] for e in ents if e.label == "PERSON"]
            if people:
                return people[-1].removesuffix("'s").removesuffix("’s")
    return None


def _titled(text: str, start: int, end: int) -> bool:
    """Whether `text` is the name at `[start, end)`, with at most two words before it (a title:
    "Psychologist Dave Collins") and nothing but punctuation after it."""
    return len(text[:start].split()) <= 2 and not text[end:].strip(" .,;:!?'’\"”")


def _last_topic(history: Sequence[Turn]) -> str | None:
    """The thing the last question that has one was about (`_topic`)."""
    for turn in reversed(history):
        topic, _, _ = _topic(turn.standalone_question)
        if topic is not None:
            return topic
    return None


def _topic(question: str) -> tuple[str | None, bool, bool]:
    """What a question is about, from its parse, whether that is one of its main arguments, and
    whether it is plural:
    its last main argument (subject, object or attribute, with what depends on it: "the minimum
    estimate of arms shipments") that is not the wh-phrase, what the wh-word asked for, a pronoun
    or a person; else its last such noun phrase ("Russia" in "How many troops were sent to Russia?")."""
    doc = parse(question)
    asked = _asked_for(doc)
    chunks = [c for c in doc.noun_chunks if _can_be_it(c) and c.root not in asked]
    main = [c for c in chunks if c.root.dep_ in ("nsubj", "nsubjpass", "dobj", "attr")]
    if main:
        root = main[-1].root
        subtree = list(root.subtree)
        topic = doc[subtree[0].i : subtree[-1].i + 1].text
    elif chunks:
        root = chunks[-1].root
        topic = chunks[-1].text
    else:
        return None, False, False
    first, _, rest = topic.partition(" ")
    topic = f"the {rest}" if first.lower() in ("a", "an", "this", "that") and rest else topic
    return topic, bool(main), root.tag_ in ("NNS", "NNPS")


def _main_singular(question: str) -> bool:
    """Whether a question's topic is one of its main arguments and singular (an "it" can be it)."""
    _, main, plural = _topic(question)
    return main and not plural


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
