"""Bad questions get an InputError that says what to do."""

from __future__ import annotations

import pytest

from rag import BriefingQA, InputError
from rag.question import validate_question


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 100_000, "100,000 characters long; the limit is 2,000"),
        ("What\x07 happened?", "control characters \\(U\\+0007\\)"),
        ("Qu'a dit la Chine à propos de l'accord ?", "French"),
        ("¿Cuál fue la estimación mínima de las armas?", "Spanish"),
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
    ],
)
def test_short_english_questions_pass(question: str) -> None:
    assert validate_question(question) == question


def test_bad_question_fails_before_touching_the_index(fake_qa: BriefingQA) -> None:
    with pytest.raises(InputError):
        fake_qa.ask("")
