"""Unanswerable questions made by swapping a name or number (`train.swaps`): the paragraph states
the original and never the swapped one, and only answerable questions are swapped."""

from __future__ import annotations

from train.swaps import swaps

FIRST = "The Normans conquered England in 1066 under William. They built castles across the country."
SECOND = "In 1071 the Normans fought in Sicily, led by Robert Guiscard."
ARTICLE = {
    "title": "Normans",
    "paragraphs": [
        {
            "context": FIRST,
            "qas": [
                {"id": "q1", "question": "When did William conquer England?", "answers": [{"text": "1066", "answer_start": 32}], "is_impossible": False},
                {"id": "q2", "question": "Who ruled Rome?", "answers": [], "is_impossible": True},
            ],
        },
        {"context": SECOND, "qas": [{"id": "q3", "question": "What did they build?", "answers": [{"text": "castles", "answer_start": 0}], "is_impossible": False}]},
    ],
}  # fmt: skip


def test_a_name_its_paragraph_states_is_swapped_for_one_only_the_article_states() -> None:
    (article,) = swaps([ARTICLE])
    (paragraph,) = article["paragraphs"]  # "What did they build?" names nothing to swap
    assert paragraph["context"] == FIRST
    (qa,) = paragraph["qas"]  # SQuAD's own unanswerable question is not swapped
    assert qa["id"] == "swap-q1" and qa["is_impossible"] and qa["answers"] == []
    # a person for a person, or a place for a place, that only the other paragraph states
    assert qa["question"] in ("When did Robert Guiscard conquer England?", "When did William conquer Sicily?")


def test_an_article_with_nothing_to_swap_is_left_out() -> None:
    nothing = {"title": "x", "paragraphs": [{"context": SECOND, "qas": ARTICLE["paragraphs"][1]["qas"]}]}
    assert swaps([nothing]) == []
