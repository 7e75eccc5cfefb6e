"""Bad questions get an InputError that says what to do."""

from __future__ import annotations

import pytest

from rag import BriefingQA, InputError
from rag.query.question import unnamed_person, validate_question


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("?!?..,;", "has no words"),
        ("x" * 100_000, "100,000 characters long; the limit is 2,000"),
        ("What\x07 happened?", "control characters \\(U\\+0007\\)"),
        ("Qu'a dit la Chine à propos de l'accord ?", "French"),
        ("¿Cuál fue la estimación mínima de las armas?", "Spanish"),
        ("¿Cuántas copias ha vendido Halo 2?", "Spanish"),  # one function word, but its opening mark
        ("Что сказал Китай о сделке?", "not written in Latin script"),
        (None, "must be text"),
    ],
)
def test_bad_questions(question: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate_question(question)


@pytest.mark.parametrize(
    "question",
    [
        "And the maximum?",
        "Who is Olena Guseinova?",
        "What about Pyongyang's troops?",
        "Kim Jong Un?",
        "Moscow and Seoul: allies?",
        "2024?",
    ],
)
def test_short_english_questions_pass(question: str) -> None:
    assert validate_question(question) == question


def test_bad_question_fails_before_touching_the_index(fake_qa: BriefingQA) -> None:
    with pytest.raises(InputError):
        fake_qa.ask("")


def test_a_lone_surrogate_is_refused_with_a_message(fake_qa: BriefingQA) -> None:
    with pytest.raises(InputError, match="not valid Unicode"):
        fake_qa.ask("Who wrote \ud800 the study?")


@pytest.mark.parametrize("invisible", ["\u200b", "\u200f", "\ufeff", "\u200d", "\u00ad", "\u2060"])
def test_invisible_characters_do_not_change_the_question(invisible: str) -> None:
    plain = "What was the minimum arms estimate?"
    for i in (0, 5, 12, len(plain) - 1):  # start, inside a word, between words, before the mark
        assert validate_question(plain[:i] + invisible + plain[i:]) == plain


def test_invisible_characters_do_not_change_the_answer(seed_qa: BriefingQA) -> None:
    plain = seed_qa.ask("What was the minimum arms estimate?")
    marked = seed_qa.ask("\ufeffWhat was the mini\u200bmum arms\u200f estimate?\u200b")
    assert (marked.text, marked.citations) == (plain.text, plain.citations)


@pytest.mark.parametrize("top_k", [0, -1, 51, True, 2.5])
def test_top_k_out_of_range_is_refused(fake_qa: BriefingQA, top_k: object) -> None:
    with pytest.raises(InputError, match="top_k must be a whole number from 1 to 50"):
        fake_qa.ask("What happened?", top_k=top_k)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "unnamed"),
    [
        ("What did he say?", "he"),
        ("What is her name?", "her"),
        ("What did the minister say about his plan?", None),  # "his" can be the minister
        ("How old was Kim Collins when he won?", None),
        ("Who wrote the study?", None),
        ("Where is the shelter?", None),  # "he" inside a word is no pronoun
    ],
)
def test_a_personal_pronoun_that_stands_for_no_one(question: str, unnamed: str | None) -> None:
    assert unnamed_person(question) == unnamed


def test_a_first_question_about_no_one_asks_who(seed_qa: BriefingQA) -> None:
    answer = seed_qa.ask("What does she say Russia needs?")
    assert answer.abstained and answer.note.startswith("Who is “she”?")
    chat = seed_qa.chat()
    chat.ask("Who wrote the study?")
    assert "mmunition" in chat.ask("What does she say Russia needs?").text  # in a conversation: the author
