"""Question kinds and short answer spans."""

from __future__ import annotations

import pytest

from rag.query.spans import best_span, question_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What was the minimum arms estimate?", "quantity"),
        ("How many troops were sent?", "quantity"),
        ("When was the study published?", "date"),
        ("Who wrote the study?", "person"),
        ("Where did the leaders meet?", "place"),
        ("Why is Russia turning to North Korea?", "other"),
    ],
)
def test_question_kind(question: str, kind: str) -> None:
    assert question_kind(question) == kind


def test_quantity_span_keeps_its_qualifier_and_prefers_the_nearest() -> None:
    sentence = "Sales reached up to $5.5 billion, but even the minimum estimate is over $1.7 billion."
    span = best_span(sentence, "quantity", {"minimum", "estimate"})
    assert span is not None and span.text == "over $1.7 billion"
    assert sentence[span.start : span.end] == span.text


def test_date_and_person_spans() -> None:
    d = best_span("The study was published on Oct. 28 by the foundation.", "date", {"study", "published"})
    assert d is not None and d.text == "on Oct. 28"
    p = best_span("According to the study's author Olena Guseinova, Russia needs shells.", "person", {"author"})
    assert p is not None and p.text == "Olena Guseinova"


def test_no_span_when_only_question_words_match() -> None:
    assert best_span("North Korea sent troops.", "person", {"north", "korea"}) is None
