"""Fit the answer-type model (`rag/query/answer_types.json`) on the SQuAD 2.0 benchmark articles.

    python -m rag.evaluation.answer_types [--write]

Each SQuAD question with a gold (or, for unanswerable ones, a plausible) answer is labelled
with the spaCy entity label of that answer in its paragraph — the entity mostly inside the answer
that makes up a good part of it ("20,000" in "20,000 soldiers"), or NONE when the answer is not one entity (a description, a reason,
a clause). A softmax regression with a small L2 penalty then maps the MiniLM vectors
of the question, its focus phrase and its form (`rag.query.understand.read_question`) to those labels.
A quarter of the questions is held out (by article, so no paragraph is in both halves) and the
held-out accuracy printed; the written model is then fitted on all of them. The seed corpus is
never used here.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.evaluation.squad import DEFAULT, load
from rag.index.embed import MiniLMEmbedding
from rag.index.encoder import encode
from rag.ingest.analyze import entities
from rag.query.understand import NONE, AnswerTypes, read_question
from rag.types import Entity


def label_of(found: Sequence[Entity], start: int, end: int) -> str:
    """The label of the entity that is mostly inside the answer and makes up a good part of it
    ("20,000" CARDINAL in the answer "20,000 soldiers"), or NONE."""
    best, label = 0, NONE
    for e in found:
        overlap = min(e.end, end) - max(e.start, start)
        if overlap > 0 and overlap >= 0.5 * (e.end - e.start) and overlap >= 0.3 * (end - start) and overlap > best:
            best, label = overlap, e.label
    return label


def examples(data: list[dict]) -> list[tuple[str, str, int]]:
    """(question, answer label, article number) for every question with a located answer."""
    contexts = [p["context"] for article in data for p in article["paragraphs"]]
    found = entities(contexts, batch_size=64)
    out, k = [], 0
    for n, article in enumerate(data):
        for para in article["paragraphs"]:
            ents = found[k]
            k += 1
            for qa in para["qas"]:
                answers = qa.get("answers") or qa.get("plausible_answers") or []
                if not answers:
                    continue
                a = answers[0]
                start = int(a["answer_start"])
                out.append((qa["question"], label_of(ents, start, start + len(a["text"])), n))
    return out


def fit(x: np.ndarray, y: np.ndarray, classes: int, l2: float = 3e-4, steps: int = 2000, rate: float = 2.0):
    """Softmax regression by full-batch gradient descent with momentum; returns (weights, bias)."""
    w = np.zeros((x.shape[1], classes))
    b = np.zeros(classes)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    onehot = np.eye(classes)[y]
    for _ in range(steps):
        z = x @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        gw = x.T @ (p - onehot) / len(x) + l2 * w
        gb = (p - onehot).mean(axis=0)
        vw, vb = 0.9 * vw - rate * gw, 0.9 * vb - rate * gb
        w, b = w + vw, b + vb
    return w, b


def features(embedder: MiniLMEmbedding, questions: list[str]) -> np.ndarray:
    reads = [read_question(q) for q in questions]
    focus = [r.focus or q for r, q in zip(reads, questions)]
    forms = [r.form or q for r, q in zip(reads, questions)]
    return np.hstack([encode(embedder, questions), encode(embedder, focus), encode(embedder, forms)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--squad", type=Path, default=DEFAULT)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    data = load(args.squad)
    rows = examples(data)
    labels = tuple(sorted({label for _, label, _ in rows}))
    print(f"{len(rows)} questions; answer labels: {dict(Counter(label for _, label, _ in rows).most_common())}")
    embedder = MiniLMEmbedding()
    x = features(embedder, [q for q, _, _ in rows])
    y = np.array([labels.index(label) for _, label, _ in rows])
    held = np.array([n % 4 == 3 for _, _, n in rows])
    w, b = fit(x[~held], y[~held], len(labels))
    predicted = np.argmax(x[held] @ w + b, axis=1)
    majority = Counter(y[~held].tolist()).most_common(1)[0][0]
    print(
        f"held-out accuracy {np.mean(predicted == y[held]):.3f} over {held.sum()} questions "
        f"(always the most common label: {np.mean(y[held] == majority):.3f})"
    )
    scores = x[held] @ w + b
    entity = y[held] != labels.index(NONE)
    scores[:, labels.index(NONE)] = -np.inf
    print(
        f"  label of entity answers, best entity label right: {np.mean(scores[entity].argmax(1) == y[held][entity]):.3f}"
    )
    for i, name in enumerate(labels):
        mask = y[held] == i
        if mask.sum() >= 5:
            print(f"  {name:12s} n={mask.sum():4d} recall {np.mean(predicted[mask] == i):.2f}")
    w, b = fit(x, y, len(labels))
    model = AnswerTypes(labels, w, b, embedder.model_name, source=f"rag.evaluation.answer_types on {args.squad.name}")
    if args.write:
        path = Path(__file__).resolve().parent.parent / "query" / "answer_types.json"
        path.write_text(model.to_json() + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
