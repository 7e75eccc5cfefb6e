"""The short-answer phrase model over real spaCy parses (`rag.query.phrases`)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.ingest.analyze import entities, parse, parse_stored
from rag.query.phrases import FEATURES, PhraseModel, candidates, features, scored, short_answer
from rag.query.understand import Understanding, read_question
from rag.types import Entity, Sentence


def _understood(question: str, types: dict[str, float]) -> Understanding:
    return Understanding(read_question(question), types)


def test_candidates_are_entities_noun_chunks_and_subtrees() -> None:
    doc = parse("In 1951 the committee banned cartels across the region.")
    texts = {doc[lo:hi].text: label for lo, hi, label in candidates(doc)}
    assert texts["1951"] == "DATE"
    assert "committee" in texts and "the committee" not in texts  # determiners are trimmed
    assert "cartels across the region" in texts and "cartels" in texts


def test_a_stored_sentence_is_parsed_with_the_entities_ingest_found() -> None:
    text = "In 1951 the committee in Paris banned cartels across the region."
    stored = Sentence(0, len(text), text, entities([text])[0])
    doc, full = parse_stored(stored), parse(text)
    assert [(e.text, e.label_) for e in doc.ents] == [(e.text, e.label_) for e in full.ents]
    assert [t.dep_ for t in doc] == [t.dep_ for t in full]  # the same parse, without a second entity pass
    # the stored entities are the parse's, even where the recogniser would say otherwise
    mine = parse_stored(
        Sentence(0, len(text), text, (Entity(text.index("committee"), text.index(" in Paris"), "ORG"),))
    )
    assert [(e.text, e.label_) for e in mine.ents] == [("committee", "ORG")]
    assert mine[text[: text.index("committee")].count(" ")].ent_type_ == "ORG"


def test_features_have_the_model_s_shape() -> None:
    u = _understood("What did the committee ban?", {"NONE": 0.9, "DATE": 0.1})
    doc = parse("In 1951 the committee banned cartels across the region.")
    lo, hi, label = candidates(doc)[0]
    x = features(doc, lo, hi, label, u, {"committee", "ban"})
    assert x.shape == (len(FEATURES),) and np.isfinite(x).all()


@pytest.mark.parametrize(
    ("question", "sentence", "types", "expected"),
    [
        (
            "When did the war end?",
            "The war ended in 1945 after six years of fighting.",
            {"DATE": 0.9, "NONE": 0.1},
            "1945",
        ),
        (
            "What did the committee ban?",
            "In 1951 the committee banned cartels across the region.",
            {"NONE": 0.9, "DATE": 0.05, "ORG": 0.05},
            "cartels",
        ),
        (
            "Which river flows through Basel?",
            "The Rhine flows through Basel before it reaches Germany.",
            {"LOC": 0.7, "GPE": 0.2, "NONE": 0.1},
            "Rhine",
        ),
    ],
)
def test_the_best_phrase_answers_and_does_not_repeat_the_question(
    question: str, sentence: str, types: dict[str, float], expected: str
) -> None:
    best = scored(parse(sentence), _understood(question, types), PhraseModel.load())[0]
    assert expected in best.text
    assert sentence[best.start : best.end] == best.text and 0.0 < best.probability < 1.0


def test_a_description_question_gets_no_phrase() -> None:
    u = Understanding(read_question("Who is Olena Guseinova?"), {"PERSON": 0.9, "NONE": 0.1})
    assert u.read.describe
    assert short_answer(parse("Olena Guseinova, the study's author, said it."), u, PhraseModel.load()) is None


def test_a_model_with_the_wrong_number_of_weights_is_refused() -> None:
    with pytest.raises(ValueError, match="weights"):
        PhraseModel((1.0,), 1.0, 0.0, 0.5)


def test_a_phrase_never_cuts_a_bracket_or_a_quote_in_half() -> None:
    doc = parse("Russian President Vladimir Putin (L) shakes hands with Kim Jong Un (R) after the ceremony.")
    texts = [doc[lo:hi].text for lo, hi, _ in candidates(doc)]
    assert texts and all(t.count("(") == t.count(")") for t in texts)


def test_the_person_the_question_names_is_no_candidate_but_a_namesake_is() -> None:
    doc = parse("Russian President Vladimir Putin met Kim Jong Un and his sister Kim Yo Jong in Pyongyang.")
    asked = read_question("Who did Putin and Kim Jong Un meet in Pyongyang?")
    texts = {doc[lo:hi].text for lo, hi, _ in candidates(doc, asked)}
    assert "Kim Yo Jong" in texts  # a shared family name is not the same person
    assert not any("Putin" in t or "Kim Jong Un" in t for t in texts)  # "Putin" is "Vladimir Putin"
    assert any("Putin" in doc[lo:hi].text for lo, hi, _ in candidates(doc))  # without the question, it is one
