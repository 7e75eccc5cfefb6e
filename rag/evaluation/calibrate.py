"""Fit the answer-confidence model (`rag/query/models/confidence.json`) on SQuAD 2.0 articles the
reader was never trained on, and on the gated real-news questions.

    python -m rag.evaluation.calibrate [--squad ../shared/bench/squad-v2-dev-8articles.json]
        [--news-index .index-news] [--news eval/news.jsonl ...] [--write]

The SQuAD articles are the reader's held-out ones (its card, `rag/query/models/reader.json`,
names the articles it trained on; those are left out). They are ingested as a corpus and every
question is asked through retrieval and the reader (`BriefingQA.read`): each passage's best span
is a row of `rag.query.confidence.FEATURES`, labelled 1 when its quote holds a gold answer
(unanswerable questions: always 0). The news questions (`NEWS`: the single questions and the
first turns of the gated real-news sets, never the held-out ones) are read the same way over
the news index that `make eval-news` builds, labelled 1 when the quote holds every gold fact:
news is what the product reads, and SQuAD alone left it unsure of news answers.

Two models over the standardised features, both fitted by Newton's method: a logistic model,
whose highest probability among a question's rows is what `ask` abstains on, and a conditional
logit (`choice`: each answerable question's rows compete in one softmax), whose preferred row is
the answer `ask` gives.

The figures it prints are cross-validated by article (each article's questions scored by a model
fitted on the others; the news articles in `NEWS_FOLDS` groups), for each corpus apart: the share
of questions whose chosen quote holds the answer, and the trade-off curve — abstention on
unanswerable questions against false abstention (answerable questions abstained on) — with the
thresholds that give it. The seed corpus is never used here.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.errors import InputError
from rag.evaluation.runner import fact_found
from rag.evaluation.sets import load_set
from rag.evaluation.squad import DEFAULT, load, trained_on, write_corpus
from rag.qa import BriefingQA
from rag.query.confidence import FEATURES, Confidence

MODEL = Path(__file__).resolve().parent.parent / "query" / "models" / "confidence.json"
# The gated real-news sets (never `*-heldout*`: those measure what this fitting does).
NEWS = (Path("eval/news.jsonl"), Path("eval/news-reading.jsonl"), Path("eval/news-conversations.jsonl"))
NEWS_FOLDS = 4

Row = tuple[int, np.ndarray, float]  # (question, a passage's features, 1 when its quote answers)


@dataclass(frozen=True)
class Asked:
    """A question read for fitting: its article (for news, the gold quote's source; an unanswerable
    question is its own), whether it has an answer, and its corpus. SQuAD's `Question` has the
    first two (its corpus: "squad"); saved rows come back as these."""

    source: str
    answerable: bool
    corpus: str = "news"


def logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of a logistic regression (Newton's method, a small L2 on the weights)."""
    X = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(X @ w, -50, 50)))
        grad = X.T @ (p - y) + l2 * np.r_[w[:-1], 0]
        hess = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w[:-1], float(w[-1])


# What the choice model compares a question's spans by: what the reader reads and what the
# passage and its quote say, not retrieval's scores (`rank`, `dense`), which tell whether a
# passage is about the question (the probability keeps them), not which of the passages found
# answers it.
CHOICE = tuple(name for name in FEATURES if name not in ("rank", "dense"))


def conditional_logit(
    x: np.ndarray, y: np.ndarray, question: np.ndarray, l2: float = 1e-2, steps: int = 30
) -> np.ndarray:
    """Weights of a conditional logit (Newton's method, a small L2): each question's rows compete
    in one softmax, and the rows labelled 1 share the target. Questions with no row labelled 1
    say nothing about which row answers, and are left out."""
    groups = [g for g in (np.flatnonzero(question == i) for i in np.unique(question)) if y[g].max() > 0]
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        grad, hess = l2 * w, l2 * np.eye(len(w))
        for g in groups:
            s = x[g] @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            mean = p @ x[g]
            grad += x[g].T @ (p - y[g] / y[g].sum())
            hess += (x[g] * p[:, None]).T @ x[g] - np.outer(mean, mean)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def fit(
    rows: list[tuple[int, np.ndarray, float]],
    source: str = "",
    keep: tuple[str, ...] = FEATURES,
    choose: tuple[str, ...] | None = None,
) -> Confidence:
    """The probability model over the features `keep`, the choice model over `choose` (default:
    those of `keep` in `CHOICE`); the others get weight 0."""
    choose = tuple(name for name in keep if name in CHOICE) if choose is None else choose
    used = np.array([name in keep or name in choose for name in FEATURES], dtype=float)
    x = np.array([f for _, f, _ in rows]) * used
    y = np.array([label for _, _, label in rows])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    mask = np.array([name in keep for name in FEATURES], dtype=float)
    w, b = logistic(z * mask, y)
    w = w * mask
    cmask = np.array([name in choose for name in FEATURES], dtype=float)
    c = conditional_logit(z * cmask, y, np.array([i for i, _, _ in rows])) * cmask
    alone = Confidence(tuple(w), b, tuple(mean), tuple(scale), source=source)  # no choice: the most probable row
    # the answer rate the probabilities are re-based from: how often the most probable row answers
    rate = float(np.clip(np.mean([label for _, label, _ in _answers(rows, alone).values()]), 0.01, 0.99))
    return replace(alone, base_rate=rate, prior=rate, choice=tuple(c) if choose else ())


def _answers(rows: list[tuple[int, np.ndarray, float]], model: Confidence) -> dict[int, tuple[float, float, int]]:
    """Each question's answer as `ask` gives it: (the highest probability of its rows, the label
    of the row `model` chooses, question)."""
    spans: dict[int, list[tuple[np.ndarray, float]]] = {}
    for i, f, label in rows:
        spans.setdefault(i, []).append((f, label))
    out = {}
    for i, rows_of in spans.items():
        features = [f for f, _ in rows_of]
        out[i] = (max(model.probability(f) for f in features), rows_of[model.chosen(features)][1], i)
    return out


def curve(scored: list[tuple[float, bool, bool]], rates=(0.05, 0.10, 0.15, 0.20)) -> list[dict]:
    """(probability, answerable, right) per question → abstention on unanswerable at each false-abstention rate."""
    answerable = np.array([p for p, ok, _ in scored if ok])
    unanswerable = np.array([p for p, ok, _ in scored if not ok])
    rows = []
    for rate in rates:
        t = float(np.quantile(answerable, rate))
        right = np.mean([r and p >= t for p, ok, r in scored if ok])
        rows.append(
            {
                "false_abstention": rate,
                "threshold": round(t, 3),
                "abstention_unanswerable": round(float(np.mean(unanswerable < t)), 3),
                "answered_right": round(float(right), 3),
            }
        )
    return rows


ABLATION = {
    "the reader's margin alone": ("margin",),
    "the reader's three scores": ("margin", "score", "null"),
    "+ retrieval (cosine, rank)": ("margin", "score", "null", "dense", "rank"),
    "+ the question's names and terms in the passage": (
        "margin",
        "score",
        "null",
        "dense",
        "rank",
        "names",
        "coverage",
    ),
    "+ in the quote": FEATURES[:-1],
    "+ agreement across passages (all)": FEATURES,
}


CHOOSING = {
    "the most probable span": (),
    "a choice model over every feature": FEATURES,
    "a choice model over all but rank": tuple(name for name in FEATURES if name != "rank"),
    "a choice model over all but rank and cosine (shipped)": CHOICE,
}


def corpus(question) -> str:
    return getattr(question, "corpus", "squad")


def folds(questions: list) -> dict[int, str]:
    """Each question's fold for cross-validation: its SQuAD article, or one of `NEWS_FOLDS` groups
    of news articles (a stable hash of the article, so a story's questions stay together)."""
    return {
        i: f"news {zlib.crc32(q.source.encode()) % NEWS_FOLDS}" if corpus(q) == "news" else q.source
        for i, q in enumerate(questions)
    }


def cross_validated(rows, questions, fold, keep, choose=None) -> dict[str, list[tuple[float, bool, bool]]]:
    """Each fold's questions scored by a model fitted on the other folds: (probability,
    answerable, right) per question, apart for each corpus."""
    scored: dict[str, list[tuple[float, bool, bool]]] = {}
    for held in sorted(set(fold.values())):
        model = fit([r for r in rows if fold[r[0]] != held], keep=keep, choose=choose)
        for p, label, i in _answers([r for r in rows if fold[r[0]] == held], model).values():
            scored.setdefault(corpus(questions[i]), []).append((p, questions[i].answerable, bool(label)))
    return scored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--squad", type=Path, default=DEFAULT)
    ap.add_argument("--news-index", type=Path, default=Path(".index-news"), help="the index `make eval-news` builds")
    ap.add_argument(
        "--news", type=Path, nargs="*", default=list(NEWS), help="news eval sets to fit on (none: SQuAD alone)"
    )
    ap.add_argument("--write", action="store_true", help=f"write {MODEL}")
    ap.add_argument(
        "--sample", type=int, default=0, help="read only this many SQuAD questions (random, seed 0): a quick check"
    )
    ap.add_argument("--rows", type=Path, help="save the feature rows here (npz), or fit on them if the file exists")
    args = ap.parse_args()
    if args.rows and args.rows.is_file():
        saved = np.load(args.rows, allow_pickle=True)
        rows = [(int(i), f, float(y)) for i, f, y in zip(saved["question"], saved["x"], saved["y"])]
        questions = [
            Asked(str(s), bool(a), str(c)) for s, a, c in zip(saved["source"], saved["answerable"], saved["corpus"])
        ]
    else:
        try:
            data = [a for a in load(args.squad) if a["title"] not in trained_on()]
        except InputError as e:
            raise SystemExit(str(e)) from None
        if not data:
            raise SystemExit(f"every article of {args.squad} was trained on: nothing held out to fit on")
        if missing := [str(p) for p in args.news if not p.is_file()]:
            raise SystemExit(f"no eval set at {', '.join(missing)}: run from the project's folder, or pass --news")
        if args.news and not (args.news_index / "chroma.sqlite3").is_file():
            raise SystemExit(
                f"no news index at {args.news_index}: run `make eval-news` first, or pass --news with no sets"
            )
        rows, questions = read_rows(data, args.sample)
        if args.news:
            more, asked = read_news(args.news, args.news_index)
            rows += [(i + len(questions), f, y) for i, f, y in more]
            questions += asked
        if args.rows:
            np.savez(
                args.rows,
                question=[r[0] for r in rows],
                x=np.array([r[1] for r in rows]),
                y=[r[2] for r in rows],
                source=[q.source for q in questions],
                answerable=[q.answerable for q in questions],
                corpus=[corpus(q) for q in questions],
            )
    report(rows, questions, args.write)


def read_rows(data: list[dict], sample: int = 0) -> tuple[list[Row], list]:
    """Every SQuAD question asked through retrieval and the reader: (question, features, label) per passage."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        questions = write_corpus(data, Path(tmp) / "corpus")
        if sample:
            questions = random.Random(0).sample(questions, min(sample, len(questions)))
        qa = BriefingQA(Settings(index_dir=Path(tmp) / "index"), confidence=_FLAT)
        qa.ingest([Path(tmp) / "corpus"])
        for i, q in enumerate(questions):
            rows += _read(qa, i, q.text, lambda quote, q=q: q.answerable and any(a in quote for a in q.answers)) or []
            if i % 200 == 0:
                print(f"read {i}/{len(questions)}", flush=True)
    return rows, questions


def read_news(sets: list[Path], index: Path) -> tuple[list[Row], list[Asked]]:
    """The single questions and first turns of news eval sets, read over `index`: a row per
    passage, labelled 1 when its quote holds every gold fact (a fact: any of its alternatives)."""
    rows: list[Row] = []
    asked: list[Asked] = []
    qa = BriefingQA(Settings(index_dir=index), confidence=_FLAT)
    for path in sets:
        for item in load_set(path).items:
            if item.turn > 0 or "~" in item.id:  # a follow-up needs its conversation; a rewording, its first
                continue
            read = _read(
                qa,
                len(asked),
                item.question,
                lambda quote, it=item: it.answerable and all(fact_found(f, quote) for f in it.facts),
            )
            if read is None:
                continue
            rows += read
            source = item.quotes[0].source if item.quotes else f"{path.name}:{item.id}"
            asked.append(Asked(source, item.answerable))
    print(f"read {len(asked)} news questions from {len(sets)} sets", flush=True)
    return rows, asked


def _read(qa: BriefingQA, i: int, question: str, answers: Callable[[str], bool]) -> list[Row] | None:
    """Question `i` read through retrieval and the reader: a row per passage, labelled 1 when
    `answers` its quote (the sentences that hold the span); None for a question refused as input."""
    try:
        found = qa.read(question)
    except InputError:
        return None
    return [(i, f.features, float(answers(" ".join(s.text for s in f.sentences)))) for f in found]


_FLAT = Confidence((0.0,) * len(FEATURES), 0.0, (0.0,) * len(FEATURES), (1.0,) * len(FEATURES))


def report(rows: list[Row], questions: list, write: bool) -> None:
    fold = folds(questions)
    scored = cross_validated(rows, questions, fold, FEATURES)
    corpora = sorted(scored, key=lambda c: c != "squad")
    for name in corpora:
        answerable = [s for s in scored[name] if s[1]]
        print(f"{name}: {len(scored[name])} questions read ({len(answerable)} answerable)")
        print(f"  the chosen quote holds the answer (answerable): {np.mean([r for _, _, r in answerable]):.3f}")
        print("  cross-validated (thresholds at the fitting set's answer rate):")
        for row in curve(scored[name]):
            print("    " + json.dumps(row))
    print(
        "ablation of the probability's features (cross-validated; the choice as shipped):"
        " abstention on unanswerable at 10 % false abstention; answered right; for " + ", ".join(corpora)
    )
    for name, keep in ABLATION.items():
        by = cross_validated(rows, questions, fold, keep, CHOICE)
        cells = [curve(by[c], rates=(0.10,))[0] for c in corpora]
        print(
            f"  {name:<48}" + "".join(f"  {r['abstention_unanswerable']:.3f}  {r['answered_right']:.3f}" for r in cells)
        )
    print(
        "choosing the answer (cross-validated): the chosen quote holds the answer; answered right at 10 % false abstention; for "
        + ", ".join(corpora)
    )
    for name, choose in CHOOSING.items():
        by = cross_validated(rows, questions, fold, FEATURES, choose)
        cells = [(np.mean([r for _, ok, r in by[c] if ok]), curve(by[c], rates=(0.10,))[0]) for c in corpora]
        print(f"  {name:<48}" + "".join(f"  {m:.3f}  {r['answered_right']:.3f}" for m, r in cells))
    counts = {c: len({fold[i] for i, q in enumerate(questions) if corpus(q) == c}) for c in corpora}
    source = "python -m rag.evaluation.calibrate on " + " and ".join(
        f"{counts[c]} held-out SQuAD 2.0 articles"
        if c == "squad"
        else f"{sum(corpus(q) == c for q in questions)} questions of the gated news sets"
        for c in corpora
    )
    model = fit(rows, source=source)
    print(
        "weights",
        dict(zip(FEATURES, np.round(model.weights, 3))),
        "bias",
        round(model.bias, 3),
        "base rate",
        round(model.base_rate, 3),
        "choice",
        dict(zip(FEATURES, np.round(model.choice, 3))),
    )
    if write:
        out = {
            "features": list(FEATURES),
            "weights": [round(float(v), 5) for v in model.weights],
            "bias": round(model.bias, 5),
            "mean": [round(float(v), 5) for v in model.mean],
            "scale": [round(float(v), 5) for v in model.scale],
            "choice": [round(float(v), 5) for v in model.choice],
            "base_rate": round(model.base_rate, 4),
            "source": model.source,
            "curve": {c: curve(scored[c]) for c in corpora},
        }
        MODEL.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL}")


if __name__ == "__main__":
    main()
