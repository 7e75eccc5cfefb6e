"""A bare question word as a follow-up: the previous question asked again with it."""

from __future__ import annotations

import pytest

from rag.chat.reask import is_bare_wh, reask, statement


@pytest.mark.parametrize(
    ("fragment", "previous", "short_answer", "expected"),
    [
        # the wh-word was the subject: the short answer stands in, "do" is supplied from the verb's tag and lemma
        ("When?", "Who opened the new bridge?", "The city council", "When did the city council open the new bridge?"),
        (
            "when",
            "Who has opened the new bridge?",
            "The city council",
            "When has the city council opened the new bridge?",
        ),
        # "how many X" as the subject: the counted noun stands in; an auxiliary goes first
        ("Why?", "How many ferries left Dover on Tuesday?", "Twelve", "Why did the ferries leave Dover on Tuesday?"),
        ("Where?", "How many pilots were hired last year?", "40", "Where were the pilots hired last year?"),
        # the wh-word was not the subject: it is swapped; a preposition it leaves stranded goes
        ("When?", "Where did the mayor and Ann Lee meet?", "Oslo", "When did the mayor and Ann Lee meet?"),
        ("When?", "What did the report put the cost at?", "", "When did the report put the cost?"),
        (
            "When?",
            "What did the report put the cost at?",
            "$4 million",
            "When did the report put the cost at $4 million?",
        ),
        ("How much?", "When did the port raise its fees?", "In March", "How much did the port raise its fees?"),
        # what the old wh-phrase asked for goes back in as the verb's object when the new one asks about circumstances
        (
            "According to whom?",
            "How much could the port earn from tolls?",
            "$2 million",
            "According to whom could the port earn $2 million from tolls?",
        ),
        ("Why?", "Which bridge did the council close?", "The Old Bridge", "Why did the council close the Old Bridge?"),
        (
            "In which year?",
            "Who opened the new bridge?",
            "The city council",
            "In which year did the city council open the new bridge?",
        ),
    ],
)
def test_the_previous_question_is_asked_again_with_the_new_question_word(
    fragment: str, previous: str, short_answer: str, expected: str
) -> None:
    assert reask(fragment, previous, short_answer) == expected


def test_a_subject_with_nothing_to_stand_in_for_it_gives_up() -> None:
    """ "Who opened the bridge?" was not answered: there is no subject to ask "when" about."""
    assert reask("When?", "Who opened the new bridge?", "") is None
    assert reask("When?", "Name the bridge's builder.", "Ann Lee") is None


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
