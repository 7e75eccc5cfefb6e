"""Wh-phrases from the parse: a bare question word, the statement a question asks about."""

from __future__ import annotations

import pytest

from rag.chat.wh import is_bare_wh, statement


@pytest.mark.parametrize(
    "fragment", ["When?", "where", "How much?", "Why exactly?", "According to whom?", "In which year?"]
)
def test_bare_question_words(fragment: str) -> None:
    assert is_bare_wh(fragment)


@pytest.mark.parametrize("fragment", ["When was it built?", "the maximum", "Oslo?", ""])
def test_not_bare_question_words(fragment: str) -> None:
    assert not is_bare_wh(fragment)


def test_a_question_whose_subject_is_asked_about_reads_as_a_statement() -> None:
    assert statement("How many ferries were cancelled in Dover?") == "ferries were cancelled in Dover"
    assert statement("Which council approved the bridge?") == "the council approved the bridge"
    assert statement("Who approved the bridge?") is None  # no noun: nothing to state
    assert statement("Where did the council meet?") is None  # not the subject
