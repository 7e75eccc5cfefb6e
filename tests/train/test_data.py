"""The reader's training (`train.data`, `train.shared`, `train.reader`): distractor sentences that
keep the answer where it is, batches that keep a question's passages together, and the mean of
runs' weights (a soup)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from train.data import Example, Neighbours, Settings, with_distractors
from train.reader import mean_state
from train.shared import group_batches

GOLD = (
    "The bridge opened in May after two years of work. The council spent £10.3m on the new bridge. "
    "Traffic on the old crossing fell by half."
)
OTHER = (
    "The council spent the summer arguing about parking. A new bridge was first proposed in 1990 by "
    "the council, which said it would cost less than a school."
)
ARTICLES = [
    {"title": "Bridge", "paragraphs": [{"context": GOLD, "qas": []}, {"context": OTHER, "qas": []}]},
    {"title": "Rain", "paragraphs": [{"context": "Rain stopped play at Lord's on Friday.", "qas": []}]},
]


def _example() -> Example:
    start = GOLD.index("£10.3m")
    return Example("Bridge", "How much did the council spend on the new bridge?", GOLD, start, "£10.3m", "gold", "q1")


def test_a_distractor_is_a_sentence_like_the_question_and_the_answer_stays_put() -> None:
    example = _example()
    out = with_distractors([example], Settings(distractor=1.0), random.Random(0), Neighbours(ARTICLES))
    [changed] = out
    assert changed.context != example.context
    assert changed.context[changed.start : changed.start + len(changed.answer)] == "£10.3m"
    inserted = set(changed.context.split(". ")) - set(GOLD.split(". "))
    assert len(inserted) == 1  # one sentence added, the paragraph's own kept whole
    [sentence] = inserted
    assert "council" in sentence and "bridge" in sentence and "£10.3m" not in sentence


def test_no_distractor_at_share_zero_nor_for_a_question_without_an_answer() -> None:
    unanswerable = Example("Bridge", "Who designed the bridge?", GOLD, -1, "", "squad_null", "q2")
    neighbours = Neighbours(ARTICLES)
    assert with_distractors([_example()], Settings(distractor=0.0), random.Random(0), neighbours) == [_example()]
    assert with_distractors([unanswerable], Settings(distractor=1.0), random.Random(0), neighbours) == [unanswerable]


def test_a_questions_windows_stay_together_in_one_batch() -> None:
    groups = [[{"input_ids": [k, j]} for j in range(size)] for k, size in enumerate([3, 1, 4, 2, 3, 1])]
    batches = group_batches(groups, 5, random.Random(0))
    assert sum(len(b) for b in batches) == 14
    for batch in batches:
        numbers = [w["group"] for w in batch]
        assert numbers == sorted(numbers) and numbers[0] == 0
        for number in set(numbers):
            owners = {w["input_ids"][0] for w in batch if w["group"] == number}
            assert len(owners) == 1  # one question's windows under one number
    seen = [w["input_ids"][0] for b in batches for w in b]
    assert sorted(set(seen)) == list(range(6)) and all(seen.count(k) == len(groups[k]) for k in range(6))


def test_a_soup_is_the_mean_of_its_runs_weights_layer_by_layer() -> None:
    a = {"w": np.array([1.0, 2.0], dtype=np.float32), "b": np.array([0.0], dtype=np.float32)}
    b = {"w": np.array([3.0, 6.0], dtype=np.float32), "b": np.array([1.0], dtype=np.float32)}
    mean = mean_state([a, b])
    assert mean["w"].tolist() == [2.0, 4.0] and mean["b"].tolist() == [0.5]
    with pytest.raises(ValueError, match="at least two"):
        mean_state([a])
    with pytest.raises(ValueError, match="different layers"):
        mean_state([a, {"w": a["w"]}])
    with pytest.raises(ValueError, match="different shapes"):
        mean_state([a, {"w": np.zeros(3, dtype=np.float32), "b": b["b"]}])
