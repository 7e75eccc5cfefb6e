"""The short answer inside the cited sentence: the phrase of its parse that answers the question.

`short_answer(doc, understanding, model)` takes the parse of the one sentence an answer cites
(`rag.ingest.analyze.parse_stored`: ingest stores only entities, so the rest of the parse is
made at question time, for the few sentences that need it) and scores every candidate phrase:

- its named entities, its noun chunks, and the subtrees of its nouns, numbers and adjectives
  up to `MAX_TOKENS` tokens ("the Rhine", "a tributary of the Rhine", "igneous");
- each with `FEATURES`: how well its entity label fits what the question asks for (or, for a
  phrase that is no entity, the probability that the answer is none), how much of it the question
  already says (an answer rarely repeats its question), how near it is to the question's words in
  the text and in the dependency tree, its length, and its head's role (subject, object, object
  of a preposition, apposition, …).

`PhraseModel` is a listwise (softmax) model over a sentence's candidates plus a logistic model
of the best one's score, both fitted on the SQuAD 2.0 benchmark articles, never on the seeds
(`python -m rag.evaluation.phrases --write`, written to `rag/query/phrases.json`). The answer
leads with the phrase only when that probability clears `PhraseModel.threshold`; otherwise the
sentence stands alone. This module decides nothing about which sentence answers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from rag.query.understand import NONE, QuestionRead, Understanding

MAX_TOKENS = 12
ROLES = ("nsubj", "nsubjpass", "dobj", "pobj", "attr", "appos", "conj", "compound", "amod", "npadvmod")
BASE = (
    "fit",  # an entity's label fit (`Understanding.weight`), 0 for other phrases
    "none",  # P(the answer is no entity), for a phrase that is no entity; 0 for entities
    "entity_wanted",  # P(the answer is an entity), for a phrase that is no entity: a mismatch
    "entity",  # the phrase is exactly a named entity
    "type",  # P(the answer has this phrase's label), NONE for a phrase headed outside every entity
    "noun",  # the phrase holds, or hangs on, the noun the wh-word asks about ("which river" → "the river Deabolis")
    "asked",  # share of the phrase's content words that the question says
    "all_asked",  # every content word of the phrase is in the question
    "near",  # 1 / (1 + tokens between the phrase and the nearest question word)
    "tree",  # 1 / (1 + dependency steps from the phrase's head to the nearest question word)
    "relation",  # the phrase's head hangs (within two steps) on the question's main verb
    "length",  # log(1 + tokens)
    "long",  # more than 6 tokens
    "after",  # the phrase follows the nearest question word in the text
    "proper",  # its head is a proper noun
    "number",  # its head is a number
    *(f"role_{r}" for r in ROLES),
)
# Each feature again, times P(the answer is no entity): a description wants other phrases than a name does.
FEATURES = (*BASE, *(f"{f}*none" for f in BASE))


@dataclass(frozen=True)
class Phrase:
    start: int  # offsets into the sentence text
    end: int
    text: str
    label: str = ""  # the entity label, "" for a phrase that is no entity
    score: float = 0.0
    probability: float = 0.0  # that this phrase is the answer (`PhraseModel.probability`)


@dataclass(frozen=True)
class PhraseModel:
    ranking: tuple[float, ...]
    weight: float  # logistic model of the top phrase's ranking score
    bias: float
    threshold: float  # lead with the phrase at or above this probability
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.ranking) != len(FEATURES):
            raise ValueError(f"a phrase model needs {len(FEATURES)} weights, got {len(self.ranking)}")

    def score(self, features: np.ndarray) -> float:
        return float(np.dot(self.ranking, features))

    def probability(self, score: float) -> float:
        return 1.0 / (1.0 + math.exp(-(self.weight * score + self.bias)))

    @classmethod
    @cache
    def load(cls) -> PhraseModel:
        data = json.loads((files("rag.query") / "phrases.json").read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"phrases.json has features {data['features']}, expected {FEATURES}")
        return cls(
            tuple(data["ranking"]), float(data["weight"]), float(data["bias"]), float(data["threshold"]),
            data.get("source", ""),
        )  # fmt: skip


def candidates(doc: Any, read: QuestionRead | None = None) -> list[tuple[int, int, str]]:
    """(first token, end token, entity label) of every candidate phrase of a parsed sentence;
    with the question's `read`, none that names (or is headed by) a person the question names."""
    seen: dict[tuple[int, int], str] = {}
    for e in doc.ents:
        seen[(e.start, e.end)] = e.label_
    for chunk in doc.noun_chunks:
        seen.setdefault(_trimmed(doc, chunk.start, chunk.end), "")
    for t in doc:
        if t.pos_ in ("NOUN", "PROPN", "NUM", "ADJ") and not t.is_stop:
            lo, hi = t.left_edge.i, t.right_edge.i + 1
            if hi - lo <= MAX_TOKENS:
                seen.setdefault(_trimmed(doc, lo, hi), "")
            seen.setdefault((t.i, t.i + 1), "")
    return [
        (lo, hi, label)
        for (lo, hi), label in seen.items()
        if hi > lo
        and not _only_punct(doc[lo:hi])
        and _balanced(doc[lo:hi].text)
        and not _asked_person(doc, lo, hi, label, read)
    ]


def _asked_person(doc: Any, lo: int, hi: int, label: str, read: QuestionRead | None) -> bool:
    span = doc[lo:hi]
    return read is not None and (label or span.root.ent_type_) == "PERSON" and read.names_person(span.text)


def _balanced(text: str) -> bool:
    """No bracket or quote opened without being closed, or closed without being opened ("Putin (L")."""
    for left, right in ("()", "[]", "{}", "“”"):
        depth = 0
        for ch in text:
            depth += (ch == left) - (ch == right)
            if depth < 0:
                return False
        if depth:
            return False
    return text.count('"') % 2 == 0


def _trimmed(doc: Any, lo: int, hi: int) -> tuple[int, int]:
    """A span without leading determiners and trailing punctuation."""
    while lo < hi and (doc[lo].pos_ in ("DET", "PUNCT", "CCONJ") or doc[lo].is_space):
        lo += 1
    while hi > lo and (doc[hi - 1].pos_ in ("PUNCT", "CCONJ") or doc[hi - 1].is_space):
        hi -= 1
    return lo, hi


def _only_punct(span: Any) -> bool:
    return all(t.is_punct or t.is_space for t in span)


def features(
    doc: Any, lo: int, hi: int, label: str, understanding: Understanding, asked: set[str], said: list[Any] | None = None
) -> np.ndarray:
    """`FEATURES` of the phrase `doc[lo:hi]`; `asked` are the question's lower-cased words and
    lemmas, `said` the sentence's tokens among them (`asked_tokens`: the same for every phrase of
    one sentence, so `scored` finds them once)."""
    span = doc[lo:hi]
    head = span.root
    exact = bool(label)
    label = label or head.ent_type_  # a phrase headed inside an entity has its label ("66" is CARDINAL)
    content = [t for t in span if t.is_alpha and not t.is_stop] or [t for t in span if not t.is_punct]
    noun = understanding.read.noun
    repeats = asked - {noun}  # "the Treaty of Amsterdam" answers "which treaty"
    repeated = [t for t in content if t.lower_ in repeats or t.lemma_.lower() in repeats]
    holds = bool(noun) and any(t.lemma_.lower() == noun for t in [*span, head.head, *head.children])
    anchors = [t for t in (asked_tokens(doc, asked) if said is None else said) if t.i < lo or t.i >= hi]
    if anchors:
        nearest = min(anchors, key=lambda a: lo - a.i if a.i < lo else a.i - hi + 1)
        gap = lo - nearest.i - 1 if nearest.i < lo else nearest.i - hi
        near, after = 1.0 / (1 + gap), float(nearest.i < lo)
        tree = 1.0 / (1 + min(_steps(head, a) for a in anchors))
    else:
        near = after = tree = 0.0
    relation = understanding.read.relation
    hangs = bool(relation) and any(t.lemma_.lower() == relation for t in [head.head, head.head.head])
    wanted = understanding.wants_entity
    none = (1.0 - wanted) if understanding.types or understanding.read.describe else 0.5
    roles = [float(head.dep_ == r) for r in ROLES]
    base = np.array(
        [
            understanding.weight(label) if label else 0.0,
            0.0 if label else none,
            0.0 if label else wanted,
            float(exact),
            understanding.types.get(label or NONE, 0.0),
            float(holds),
            len(repeated) / len(content) if content else 0.0,
            float(bool(content) and len(repeated) == len(content)),
            near,
            tree,
            float(hangs),
            math.log1p(hi - lo),
            float(hi - lo > 6),
            after,
            float(head.pos_ == "PROPN"),
            float(head.pos_ == "NUM" or head.like_num),
            *roles,
        ]
    )
    return np.concatenate([base, base * none])


def asked_tokens(doc: Any, asked: set[str]) -> list[Any]:
    """The content words of a parsed sentence that the question says (`asked`: its lower-cased
    words and lemmas), in order."""
    return [t for t in doc if t.is_alpha and not t.is_stop and (t.lower_ in asked or t.lemma_.lower() in asked)]


def _steps(a: Any, b: Any) -> int:
    """Dependency-tree distance between two tokens of one sentence."""
    up = {}
    t, n = a, 0
    while True:
        up[t.i] = n
        if t.head.i == t.i:
            break
        t, n = t.head, n + 1
    t, n = b, 0
    while t.i not in up:
        if t.head.i == t.i:
            return n + len(up)
        t, n = t.head, n + 1
    return n + up[t.i]


def asked_words(understanding: Understanding) -> set[str]:
    """The question's words and lemmas, lower-cased, that a phrase may repeat."""
    read = understanding.read
    return {w.lower() for w in read.text.replace("?", " ").split()} | set(read.lemmas)


def scored(doc: Any, understanding: Understanding, model: PhraseModel) -> list[Phrase]:
    """Every candidate phrase of a parsed sentence, best first."""
    asked = asked_words(understanding)
    said = asked_tokens(doc, asked)
    out = []
    for lo, hi, label in candidates(doc, understanding.read):
        span = doc[lo:hi]
        score = model.score(features(doc, lo, hi, label, understanding, asked, said))
        out.append(Phrase(span.start_char, span.end_char, span.text, label, score, model.probability(score)))
    return sorted(out, key=lambda p: -p.score)


def short_answer(doc: Any, understanding: Understanding, model: PhraseModel) -> Phrase | None:
    """The best phrase of a parsed sentence when it is likely enough to be the answer, else None."""
    if understanding.read.describe:
        return None  # "Who is X?" wants the sentence
    best = next(iter(scored(doc, understanding, model)), None)
    return best if best is not None and best.probability >= model.threshold else None


def describes(doc: Any, name: str, label: str) -> bool:
    """Whether a parsed sentence says something about `name` rather than only naming it: a
    person with a title or an apposition ("study author Olena Guseinova", "Kim Jong Un, North
    Korea's leader"); an organisation or place as a subject or object, not a possessive ("Russia
    sent …", not "Russia's aggression")."""
    wanted = [w.lower() for w in name.replace("’", "'").split()]
    words = [t.lower_.replace("’", "'") for t in doc]
    for i in range(len(words) - len(wanted) + 1):
        if words[i : i + len(wanted)] != wanted:
            continue
        span = doc[i : i + len(wanted)]
        root = span.root
        if label == "PERSON":
            titled = any(
                t.pos_ == "NOUN" and t.dep_ in ("compound", "appos", "nmod") and t.head.i in range(span.start, span.end)
                for t in doc
            )
            if titled or (root.dep_ == "appos" and root.head.pos_ == "NOUN"):
                return True
        elif root.dep_ in ("nsubj", "nsubjpass", "dobj", "pobj", "attr", "appos", "conj"):
            return True
    return False
