"""What a question asks for, read from its parse and a fitted model, not from patterns of words.

`read_question(question)` parses the question with spaCy (`rag.ingest.analyze`) and finds:

- the **wh-word** by its part-of-speech tag (WDT, WP, WP$, WRB) and the **focus**: what the
  wh-word asks about, from the dependency parse — the noun it determines ("which foundation"),
  the adjective after "how" ("how many soldiers"), the other argument of a copula ("what was the
  minimum estimate"), or the main verb ("who authored");
- whether it asks for a **description** of a named thing ("Who is Olena Guseinova?"): a wh-word
  that is the attribute of "be" whose subject is a proper name wants a sentence, not a name;
- its **entities** and **content lemmas** (the constraints an answer must meet) and its main
  verb's lemma (the relation).

`AnswerTypes` turns the question, its focus phrase and its form ("how many", "who") into a
probability for each entity label an answer may carry (PERSON, ORG, GPE, DATE, MONEY, CARDINAL,
…, or NONE: a description or a reason). It is a softmax regression over the MiniLM vectors of
the three, fitted on the SQuAD 2.0 benchmark questions whose gold answers spaCy labels
(`python -m rag.evaluation.answer_types --write`), never on the seeds. For an embedder it was
not fitted with (the tests' fake one) it knows nothing and says so (`known = False`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import numpy as np

from rag.ingest.analyze import irregular_forms, parse
from rag.types import Entity

WH_TAGS = {"WDT", "WP", "WP$", "WRB"}
NONE = "NONE"  # the answer is not a named entity: a description, a reason, a clause
NUMERIC = frozenset({"MONEY", "CARDINAL", "QUANTITY", "PERCENT"})


@dataclass(frozen=True)
class QuestionRead:
    """What the parse says about a question."""

    text: str
    wh: str = ""  # the wh-word, lower-cased ("" when there is none)
    form: str = ""  # the question form: the wh-word, or "how" with its adjective ("how many")
    focus: str = ""  # the phrase the answer type is read from: "which foundation", "how many soldiers"
    describe: bool = False  # asks what/who a named thing is: answer with a sentence
    relation: str = ""  # the main verb's lemma
    entities: tuple[Entity, ...] = ()  # offsets into `text`
    lemmas: tuple[str, ...] = ()  # content lemmas, lower-cased
    counted: str = ""  # what "how many / how much" counts ("how many pages" → "pages"), as written
    noun: str = ""  # the lemma of the noun the wh-word asks about: "which foundation", "what was the estimate"
    negated: tuple[str, ...] = ()  # the words a negation of the question denies ("did not sign" → "sign")

    def entity_texts(self) -> list[str]:
        return [self.text[e.start : e.end] for e in self.entities]

    def names_person(self, text: str) -> bool:
        """Whether `text` names a person the question names, by every word the question uses
        ("Vladimir Putin" when the question says "Putin"): that is the same person, so not the
        answer. A relative who shares only a family name ("Kim Yo Jong" for "Kim Jong Un") is not."""
        words = name_words(text)
        return any(
            (asked := name_words(self.text[e.start : e.end])) and asked <= words
            for e in self.entities
            if e.label == "PERSON"
        )


def name_words(text: str) -> set[str]:
    """The lower-cased words of a name, initials left out."""
    return {w.lower() for w in re.findall(r"[^\W\d_]+", text) if len(w) > 1}


def read_question(question: str) -> QuestionRead:
    doc = parse(question)
    wh = next((t for t in doc if t.tag_ in WH_TAGS), None)
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    entities = tuple(Entity(e.start_char, e.end_char, e.label_) for e in doc.ents)
    lemmas = tuple(
        t.lemma_.lower()
        for t in doc
        if t.is_alpha and not t.is_stop and t.pos_ in ("NOUN", "PROPN", "VERB", "ADJ", "NUM")
    )
    relation = root.lemma_.lower() if root is not None and root.pos_ in ("VERB", "AUX") else ""
    negated = _negated(doc)
    if wh is None:
        first = _phrase(doc)
        return QuestionRead(
            question, form=first, focus=first, relation=relation, entities=entities, lemmas=lemmas, negated=negated
        )
    word = form = wh.lower_
    describe = False
    counted = noun_lemma = ""
    if word == "how" and wh.i + 1 < len(doc) and doc[wh.i + 1].pos_ in ("ADJ", "ADV"):
        adjective = doc[wh.i + 1]
        noun = adjective.head if adjective.head.pos_ == "NOUN" and adjective.dep_ in ("amod", "advmod") else None
        form = f"how {adjective.lower_}"
        focus = form + (f" {noun.lemma_.lower()}" if noun is not None else "")
        counted = noun.lower_ if noun is not None and adjective.lower_ in ("many", "much") else ""
        noun_lemma = noun.lemma_.lower() if noun is not None else ""
    elif wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN"):
        focus = f"{word} {_noun(wh.head)}"
        noun_lemma = wh.head.lemma_.lower()
    elif root is not None and root.lemma_ == "be" and wh.head == root:
        other = next((t for t in root.children if t.dep_ in ("nsubj", "attr") and t != wh), None)
        describe = other is not None and other.pos_ == "PROPN" and word in ("who", "what")
        focus = f"{word} is {_noun(other)}" if other is not None and other.pos_ != "PROPN" else f"{word} is"
        noun_lemma = other.lemma_.lower() if other is not None and other.pos_ == "NOUN" else ""
    else:
        focus = f"{word} {relation}".strip()
    return QuestionRead(question, word, form, focus, describe, relation, entities, lemmas, counted, noun_lemma, negated)


def _negated(doc: Any) -> tuple[str, ...]:
    """The words the question's negations deny, lower-cased: the verb or adjective a "not" or
    "never" hangs on ("did not sign" → "sign"), or, for a copula, what it says of its subject
    ("is not a type of rock" → "type", "would not be likely" → "likely"); each with its lemma and
    irregular forms ("did not send" → "send", "sent")."""
    out: list[str] = []
    for t in doc:
        if t.dep_ != "neg":
            continue
        head = t.head
        said = [c for c in head.children if c.dep_ in ("acomp", "attr", "xcomp")] if head.pos_ == "AUX" else [head]
        for w in said:
            if w.is_alpha:  # "send" is also "sent": the words a sentence may state it with
                out.extend([w.lower_, w.lemma_.lower(), *irregular_forms(w.lemma_)])
    return tuple(dict.fromkeys(out))


def _noun(token: object) -> str:
    """A noun with its compounds and adjectives, lemmatised: "the minimum arms estimate" → "minimum arm estimate"."""
    parts = [t for t in token.lefts if t.dep_ in ("compound", "amod")] + [token]  # type: ignore[attr-defined]
    return " ".join(t.lemma_.lower() for t in parts)


def _phrase(doc: object) -> str:
    """For a question without a wh-word ("Name the …", "Is it …?"), its first words."""
    return " ".join(t.lower_ for t in list(doc)[:3])  # type: ignore[call-overload]


@dataclass(frozen=True)
class AnswerTypes:
    """Softmax regression: [question, focus, form vectors] → probability of each answer label."""

    labels: tuple[str, ...]
    weights: np.ndarray  # (features, labels)
    bias: np.ndarray  # (labels,)
    embed_model: str
    source: str = ""
    known: bool = True

    def predict(
        self, question_vector: np.ndarray, focus_vector: np.ndarray, form_vector: np.ndarray
    ) -> dict[str, float]:
        if not self.known:
            return {}
        x = np.concatenate([question_vector, focus_vector, form_vector])
        z = x @ self.weights + self.bias
        p = np.exp(z - z.max())
        p /= p.sum()
        return dict(zip(self.labels, (float(v) for v in p)))

    def for_model(self, embed_model: str) -> AnswerTypes:
        """This model if it was fitted with `embed_model`'s vectors, else one that knows nothing."""
        if embed_model == self.embed_model:
            return self
        return AnswerTypes(self.labels, self.weights, self.bias, self.embed_model, self.source, known=False)

    def to_json(self) -> str:
        return json.dumps(
            {
                "labels": list(self.labels),
                "weights": np.round(self.weights, 5).tolist(),
                "bias": np.round(self.bias, 5).tolist(),
                "embed_model": self.embed_model,
                "source": self.source,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> AnswerTypes:
        data = json.loads(text)
        return cls(
            labels=tuple(data["labels"]),
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=np.asarray(data["bias"], dtype=np.float32),
            embed_model=data["embed_model"],
            source=data.get("source", ""),
        )

    @classmethod
    @cache
    def load(cls) -> AnswerTypes:
        return cls.from_json((files("rag.query") / "answer_types.json").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Understanding:
    """A question as the answerer uses it: its parse and the label probabilities of its answer."""

    read: QuestionRead
    types: Mapping[str, float] = field(default_factory=dict)  # label → probability; {} when unknown

    @property
    def wants_entity(self) -> float:
        """Probability that the answer is a named entity (0 for a description question)."""
        if self.read.describe or not self.types:
            return 0.0
        return 1.0 - self.types.get(NONE, 0.0)

    def weight(self, label: str) -> float:
        """How well an entity of `label` fits as the answer, if the answer is an entity: its
        probability relative to the most likely entity label's (1 for that label; 0 for a
        description question)."""
        if self.wants_entity <= 0.0 or label == NONE:
            return 0.0
        top = max(p for name, p in self.types.items() if name != NONE)
        return self.types.get(label, 0.0) / top if top > 0 else 0.0

    @property
    def numeric(self) -> bool:
        """The most likely entity label of the answer is an amount (bounds such as "up to" matter)."""
        labels = [label for label in self.types if label != NONE]
        return bool(labels) and max(labels, key=self.types.__getitem__) in NUMERIC
