"""Short answers: the entity whose label fits the question, nearest to the question's words."""

from __future__ import annotations

from rag.ingest.analyze import entities
from rag.query.spans import best_span, bound, span_bound
from rag.query.understand import QuestionRead, Understanding
from rag.types import Sentence


def _sentence(text: str) -> Sentence:
    return Sentence(0, len(text), text, entities(["" + text])[0])


def _wants(**types: float) -> Understanding:
    return Understanding(QuestionRead("?"), types)


def test_amount_keeps_its_qualifier_and_the_asked_bound_wins() -> None:
    s = _sentence("The minimum estimate is over $1.7 billion, while sales may reach up to $5.5 billion this year.")
    span = best_span(s, _wants(MONEY=0.9, NONE=0.1), {"minimum", "estimate"}, wanted="lower")
    assert span is not None and span.text == "over $1.7 billion" and span.label == "MONEY"
    assert s.text[span.start : span.end] == span.text
    upper = best_span(s, _wants(MONEY=0.9, NONE=0.1), {"estimate"}, wanted="upper")
    assert upper is not None and upper.text == "up to $5.5 billion"
    assert bound("What was the maximum estimate?") == "upper" and span_bound(upper, s.text) == "upper"


def test_the_label_that_fits_is_chosen_not_the_nearest_entity() -> None:
    s = _sentence("According to the study's author Olena Guseinova, Russia needs shells from North Korea.")
    person = best_span(s, _wants(PERSON=0.7, GPE=0.1, NONE=0.2), {"author"})
    assert person is not None and person.text == "Olena Guseinova"
    place = best_span(s, _wants(GPE=0.8, NONE=0.2), {"shells"})
    assert place is not None and place.text in ("North Korea", "Russia")


def test_no_span_when_the_question_names_the_only_fitting_entity_or_wants_a_sentence() -> None:
    s = _sentence("North Korea sent troops to Russia.")
    assert best_span(s, _wants(GPE=0.9), {"north", "korea", "russia"}) is None
    describe = Understanding(QuestionRead("Who is Kim Jong Un?", wh="who", describe=True), {"PERSON": 0.9})
    assert best_span(_sentence("Kim Jong Un met Vladimir Putin."), describe, {"kim"}) is None


def test_an_entity_name_stops_before_a_possessive() -> None:
    text = "The strain on North Korea’s resources grew, and Russia's army needed shells."
    found = {text[e.start : e.end]: e.label for e in entities([text])[0]}
    assert "North Korea" in found and "Russia" in found
    assert not any(name.endswith(("’s", "'s")) for name in found)


def test_an_entity_name_stops_before_the_slash_of_a_photo_credit() -> None:
    text = "(Kristina Kormilitsyna/POOL/AFP)"
    people = [text[e.start : e.end] for e in entities([text])[0] if e.label == "PERSON"]
    assert people == ["Kristina Kormilitsyna"]
