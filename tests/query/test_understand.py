"""Question understanding: wh-word and focus from the parse; answer labels from the fitted model."""

from __future__ import annotations

import pytest

from rag import BriefingQA
from rag.query.understand import NONE, AnswerTypes, read_question


@pytest.mark.parametrize(
    ("question", "wh", "focus", "describe"),
    [
        ("Which foundation did the study?", "which", "which foundation", False),
        ("How many soldiers could North Korea send?", "how", "how many soldier", False),
        ("What was the minimum arms estimate?", "what", "what is minimum arm estimate", False),
        ("Who is Olena Guseinova?", "who", "who is", True),
        ("Who authored the report?", "who", "who author", False),
        ("When was the study published?", "when", "when publish", False),
    ],
)
def test_wh_word_and_focus_come_from_the_parse(question: str, wh: str, focus: str, describe: bool) -> None:
    read = read_question(question)
    assert (read.wh, read.focus, read.describe) == (wh, focus, describe)


def test_question_entities_are_offsets_into_the_question() -> None:
    read = read_question("Did North Korea send troops to Russia in October 2024?")
    assert set(read.entity_texts()) >= {"North Korea", "Russia", "October 2024"}
    assert "troop" in read.lemmas


@pytest.mark.parametrize(
    ("question", "denied"),
    [
        ("Who did not sign the treaty?", {"sign"}),
        ("What did North Korea not send to Russia?", {"send", "sent"}),  # the irregular form too
        ("Which deployment would not be likely?", {"likely"}),  # a copula: what it says of the subject
        ("What isn't a type of igneous rock?", {"type"}),
        ("Who signed the treaty?", set()),
    ],
)
def test_the_words_a_negation_denies_come_from_the_parse(question: str, denied: set[str]) -> None:
    assert set(read_question(question).negated) == denied


def _best_entity(types: dict[str, float]) -> str:
    return max((label for label in types if label != NONE), key=types.__getitem__)


@pytest.mark.parametrize(
    ("question", "labels"),
    [
        ("When was the treaty signed?", {"DATE"}),
        ("Who wrote the report on the harbour?", {"PERSON", "ORG"}),
        ("How much did the new stadium cost?", {"MONEY"}),
        ("In which country is the harbour located?", {"GPE"}),
        ("How many workers went on strike?", {"CARDINAL", "QUANTITY"}),
    ],
)
def test_answer_labels_from_the_model_fitted_on_squad(seed_qa: BriefingQA, question: str, labels: set[str]) -> None:
    """Questions about no seed article, in the general forms the model was fitted on."""
    assert _best_entity(seed_qa.understand(question).types) in labels


def test_a_model_fitted_with_other_vectors_knows_nothing() -> None:
    model = AnswerTypes.load().for_model("some-other-embedder")
    assert model.known is False and model.predict(None, None, None) == {}  # type: ignore[arg-type]
