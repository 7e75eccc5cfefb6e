"""Fit the short-answer phrase model (`rag/query/phrases.json`) on the SQuAD 2.0 benchmark articles.

    python -m rag.evaluation.phrases [--write]

For every answerable benchmark question, `ask`'s own ranking gives two sentences: the best-ranked
sentence that holds a gold answer (where the phrase model learns which phrase answers) and the
top-ranked sentence (the one an answer cites, where it is measured). Every candidate phrase of
the spaCy parse (`rag.query.phrases.candidates`) is labelled with its SQuAD token F1 against the
gold answers. Three steps, with the questions split in two halves by their position (each half
fitted on the other; the figures printed are the held-out ones):

1. ranking: a listwise (softmax) model over each sentence's candidates that puts the mass on
   the phrases with the best F1 (`rag.evaluation.calibrate.listwise`);
2. Platt scaling of the top phrase's score: the probability that it matches a gold answer with
   F1 ≥ 0.5;
3. the lead threshold: the probability above which leading with the phrase gives a higher mean
   F1 than the whole sentence does.
The seed corpus is never used here.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.errors import InputError
from rag.evaluation.calibrate import listwise, logistic, print_reliability, write_model
from rag.evaluation.squad import DEFAULT, Question, load, token_f1, write_corpus
from rag.ingest.analyze import parse_stored
from rag.qa import BriefingQA
from rag.query.phrases import FEATURES, asked_tokens, asked_words, candidates, features


@dataclass(frozen=True)
class Sample:
    """One question's candidate phrases in one sentence: features, F1 of each, F1 of the sentence."""

    question: int
    x: np.ndarray
    f1: np.ndarray
    sentence_f1: float


def collect(qa: BriefingQA, questions: Sequence[Question]) -> tuple[list[Sample], list[Sample]]:
    """(samples in gold sentences, samples in top-ranked sentences) for the answerable questions."""
    gold, top = [], []
    for i, q in enumerate(questions):
        try:
            ranked = qa.rank(q.text)
        except InputError:
            continue
        if not ranked:
            continue
        understanding = qa.understand(q.text)
        asked = asked_words(understanding)
        holding = next((c for c in ranked if any(a in c.sentence.text for a in q.answers)), None)
        for sentence, out in ((holding, gold), (ranked[0], top)):
            if sentence is None:
                continue
            doc = parse_stored(sentence.sentence)
            spans = candidates(doc, understanding.read)
            if not spans:
                continue
            said = asked_tokens(doc, asked)
            x = np.array([features(doc, lo, hi, label, understanding, asked, said) for lo, hi, label in spans])
            f1 = np.array([max(token_f1(doc[lo:hi].text, a) for a in q.answers) for lo, hi, _ in spans])
            out.append(Sample(i, x, f1, max(token_f1(doc.text, a) for a in q.answers)))
    return gold, top


def fit_ranking(samples: Sequence[Sample], l2: float = 0.1) -> np.ndarray:
    """Listwise weights: the mass on each sentence's best-F1 phrases."""
    rows = [(k, s) for k, s in enumerate(samples) if s.f1.max() > 0]
    x = np.vstack([s.x for _, s in rows])
    y = np.concatenate([np.where(s.f1 >= s.f1.max() - 1e-9, s.f1, 0.0) for _, s in rows])
    groups = np.concatenate([np.full(len(s.f1), k) for k, s in rows])
    return listwise(x, y, groups, l2=l2, steps=400)


def best(samples: Sequence[Sample], w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each sample's top phrase score, that phrase's F1, and the sentence's F1."""
    z, f, s = [], [], []
    for sample in samples:
        scores = sample.x @ w
        j = int(np.argmax(scores))
        z.append(scores[j]), f.append(sample.f1[j]), s.append(sample.sentence_f1)
    return np.array(z), np.array(f), np.array(s)


def lead_threshold(p: np.ndarray, phrase_f1: np.ndarray, sentence_f1: np.ndarray) -> tuple[float, float]:
    """The probability cut that maximises mean F1 (phrase at or above it, sentence below), and that F1."""
    cuts = sorted({0.0, *np.round(p, 3).tolist()})
    scored = [(float(np.where(p >= t, phrase_f1, sentence_f1).mean()), t) for t in cuts]
    f1, t = max(scored)
    return float(t), f1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--squad", type=Path, default=DEFAULT)
    ap.add_argument("--write", action="store_true", help="write rag/query/phrases.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        questions = [q for q in write_corpus(load(args.squad), Path(tmp) / "corpus") if q.answerable]
        qa = BriefingQA(Settings(index_dir=Path(tmp) / "index"))
        qa.ingest([Path(tmp) / "corpus"])
        gold, top = collect(qa, questions)
    print(f"{len(top)} answerable questions; {len(gold)} with a sentence holding the answer among the ranked ones")
    held_z, held_f, held_s = [], [], []
    for half in (0, 1):
        w = fit_ranking([s for s in gold if s.question % 2 != half])
        z, f, s = best([s for s in top if s.question % 2 == half], w)
        zf, ff, _ = best([s for s in top if s.question % 2 != half], w)
        a, c = logistic(zf[:, None], (ff >= 0.5).astype(float), l2=1e-3)
        held_z.append(1 / (1 + np.exp(-(a[0] * z + c)))), held_f.append(f), held_s.append(s)
    p, f, s = np.concatenate(held_z), np.concatenate(held_f), np.concatenate(held_s)
    threshold, f1 = lead_threshold(p, f, s)
    print(f"held out, top-ranked sentence: best phrase F1 {f.mean():.3f}, whole sentence F1 {s.mean():.3f}")
    print(f"lead threshold {threshold:.3f}: mean F1 {f1:.3f}, leading with a phrase {np.mean(p >= threshold):.3f}")
    print_reliability(p, (f >= 0.5).astype(float))
    w = fit_ranking(gold)
    z, ff, _ = best(top, w)
    a, c = logistic(z[:, None], (ff >= 0.5).astype(float), l2=1e-3)
    if args.write:
        out = {
            "features": list(FEATURES),
            "ranking": [round(float(v), 4) for v in w],
            "weight": round(float(a[0]), 4),
            "bias": round(float(c), 4),
            "threshold": round(threshold, 3),
            "source": "python -m rag.evaluation.phrases --write (SQuAD 2.0 dev, 8 articles, answerable questions; "
            "listwise ranking of the candidate phrases of the sentence holding the answer, Platt scaling over the "
            "top-ranked sentence's best phrase, lead threshold from held-out halves)",
        }
        write_model("phrases.json", out)


if __name__ == "__main__":
    main()
