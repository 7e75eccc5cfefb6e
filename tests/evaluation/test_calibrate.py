"""The confidence model's fitting: a probability of answering, and a choice among a question's spans."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from rag.evaluation.calibrate import NEWS_FOLDS, Asked, conditional_logit, fit, folds, main, read_news
from rag.evaluation.sets import load_set
from rag.evaluation.squad import Question
from rag.qa import BriefingQA
from rag.query.confidence import FEATURES

ROOT = Path(__file__).resolve().parents[2]


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


def test_news_questions_are_read_once_each_and_labelled_by_their_facts(seed_qa: BriefingQA) -> None:
    path = ROOT / "eval" / "seeds.jsonl"
    items = load_set(path).items
    rows, asked = read_news([path], seed_qa.settings.index_dir)
    firsts = [it for it in items if it.turn == 0 and "~" not in it.id]  # no follow-up, no rewording
    assert [a.answerable for a in asked] == [it.answerable for it in firsts]
    assert {i for i, _, _ in rows} == set(range(len(asked)))  # every question has its passages' rows
    labels: dict[int, list[float]] = {}
    for i, features, label in rows:
        assert features.shape == (len(FEATURES),)
        labels.setdefault(i, []).append(label)
    assert all(max(labels[i]) == 0.0 for i, a in enumerate(asked) if not a.answerable)
    answered = [max(labels[i]) for i, a in enumerate(asked) if a.answerable]
    assert 0.5 < np.mean(answered) < 1.0  # most quotes hold every fact; a row's label is not just "answerable"


def test_folds_keep_an_article_together_and_news_in_a_few_groups() -> None:
    squad = [Question(str(k), "q?", f"/tmp/{k % 3}_Title.txt", True, ("a",), (0, 1)) for k in range(9)]
    news = [Asked(f"../shared/news/bbc/sport/{k % 20:03d}.txt", k % 4 > 0) for k in range(60)]
    fold = folds(squad + news)
    assert len({fold[k] for k in range(9)}) == 3  # one fold per SQuAD article
    assert {fold[k] for k in range(9, 69)} <= {f"news {n}" for n in range(NEWS_FOLDS)}
    by_article: dict[str, set[str]] = {}
    for k, q in enumerate(news, start=9):
        by_article.setdefault(q.source, set()).add(fold[k])
    assert all(len(v) == 1 for v in by_article.values())


def test_saved_rows_are_fitted_again_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _rows()
    path = tmp_path / "rows.npz"
    np.savez(
        path,
        question=[q for q, _, _ in rows],
        x=np.array([f for _, f, _ in rows]),
        y=[label for _, _, label in rows],
        source=[f"story {q % 8}" for q in range(300)],
        answerable=[q % 2 == 0 for q in range(300)],
        corpus=["news"] * 300,
    )
    monkeypatch.setattr(sys, "argv", ["calibrate", "--rows", str(path), "--squad", str(tmp_path / "absent.json")])
    main()  # no SQuAD file, no index: the saved rows are all it reads
    out = capsys.readouterr().out
    assert "news: 300 questions read (150 answerable)" in out
    chosen = float(out.split("the chosen quote holds the answer (answerable): ")[1].split()[0])
    assert chosen > 0.8  # cross-validated on the saved rows; chance: 0.25
