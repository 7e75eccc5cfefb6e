"""The confidence model's fitting: a probability of answering, and a choice among a question's spans."""

from __future__ import annotations

import numpy as np

from rag.evaluation.calibrate import conditional_logit, fit
from rag.query.confidence import FEATURES


def _rows(seed: int = 0) -> list[tuple[int, np.ndarray, float]]:
    """Questions of 4 spans each. The span that answers has the higher first feature, and a higher
    `rank` and `dense` too (retrieval placing it well); the second feature is the same for every
    span of a question and higher where the question is answered: it tells whether to answer,
    never which span."""
    rng = np.random.default_rng(seed)
    rows = []
    for q in range(300):
        answerable = q % 2 == 0
        right = int(rng.integers(4)) if answerable else -1
        shared = rng.normal(1.0 if answerable else -1.0)
        for k in range(4):
            f = np.zeros(len(FEATURES))
            f[0] = rng.normal(2.5 if k == right else 0.0)
            f[1] = shared
            for name in ("rank", "dense"):
                f[FEATURES.index(name)] = rng.normal(1.0 if k == right else 0.0)
            rows.append((q, f, float(k == right)))
    return rows


def test_a_feature_shared_by_a_questions_spans_weighs_nothing_in_the_choice() -> None:
    rows = _rows()
    x = np.array([f[:2] for _, f, _ in rows])
    y = np.array([label for _, _, label in rows])
    w = conditional_logit(x, y, np.array([q for q, _, _ in rows]))
    assert w[0] > 1.0 and abs(w[1]) < 1e-6


def test_fit_gives_both_models_and_the_choice_finds_the_answering_span_on_new_questions() -> None:
    rows = _rows()
    model = fit(rows, source="t")
    assert model.weights[1] > 0.5  # the shared feature says whether to answer
    weighs, chooses = dict(zip(FEATURES, model.weights)), dict(zip(FEATURES, model.choice))
    assert weighs["rank"] > 0.1 and weighs["dense"] > 0.1  # retrieval's scores weigh in the probability
    assert chooses["rank"] == chooses["dense"] == 0.0  # and never in the choice (`CHOICE`)
    assert dict(zip(FEATURES, fit(rows, choose=FEATURES).choice))["rank"] > 0.1  # though they would
    assert not fit(rows, choose=()).choice  # no choice model: the most probable span is chosen
    held = _rows(seed=1)
    by_question: dict[int, list[tuple[np.ndarray, float]]] = {}
    for q, f, label in held:
        by_question.setdefault(q, []).append((f, label))
    answered = [spans for spans in by_question.values() if max(label for _, label in spans)]
    chosen = np.mean([max(spans, key=lambda s: model.preference(s[0]))[1] for spans in answered])
    assert chosen > 0.8  # chance: 0.25
