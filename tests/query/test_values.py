"""What an answer states, compared with another."""

from __future__ import annotations

import pytest

from rag.query.values import repeats, same_value


@pytest.mark.parametrize(
    ("span", "earlier", "expected"),
    [
        # the whole earlier answer, or a part of it
        ("$1.7 billion", "Over $1.7 billion", True),
        ("Up to $1.7 billion", "Over $1.7 billion", True),
        ("£51.6m in 2004 from £1.2m", "£51.6m", True),
        ("Director general for Europe, Jose Maria Pons", "Jose Maria Pons", True),
        ("24%", "14.27 million tonnes of crops in 2004, 24%", True),
        ("Psychologist", "Psychologist Dave Collins", True),
        # another value, even with a year or a number's digits in common
        ("$5.5 billion", "Over $1.7 billion", False),
        ("£60m in 2004", "£51.6m in 2004", False),
        ("2003", "36,000", False),
        ("Peter Caruana", "Jose Maria Pons", False),
        # a word of a long answer says something new; one item of a list picks one
        ("Ukraine", "reconsider its decision to send arms to Ukraine", False),
        ("Kim Collins", "Maurice Greene and Kim Collins", False),
        ("$7m", "$5m, $6m and $7m", False),
        ("Nissan", "", False),
    ],
)
def test_a_span_that_restates_the_earlier_answer(span: str, earlier: str, expected: bool) -> None:
    assert repeats(span, earlier) is expected


def test_the_same_value_is_the_same_numbers_or_the_same_words() -> None:
    assert same_value("3 March 2023", "March 3, 2023") and same_value("The Telegraph", "telegraph")
    assert not same_value("$5.5 billion", "$1.7 billion")
