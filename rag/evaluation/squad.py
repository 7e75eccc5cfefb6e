"""SQuAD 2.0 as an external benchmark: articles as a corpus, questions nobody here wrote.

Only the articles the shipped reader was not trained on are used (its card names the others).
`load(path)` reads the SQuAD JSON; `write_corpus(data, folder)` writes each article as
`NN_Title.txt` (paragraphs separated by a blank line, so each keeps its offsets) and returns the
questions with their gold paragraph's span in that file. `benchmark(...)` ingests them and
reports, for the hybrid retriever and for dense-only and BM25-only baselines in the same run,
gold paragraph in the top 1 and top 5; for the full `ask`: the first citation inside the gold paragraph, gold answer in the first / any quote,
token F1 of the short answer, abstention accuracy on unanswerable questions, and latency.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import InputError
from rag.query.reader import card

# Read where the environment keeps it, never copied into the project; `make squad SQUAD=path` for
# another copy (the official development set: https://rajpurkar.github.io/SQuAD-explorer/).
DEFAULT = Path(os.environ.get("BRIEFING_SQUAD", "../shared/bench/squad-v2-dev-8articles.json"))


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    source: str
    answerable: bool
    answers: tuple[str, ...]
    paragraph: tuple[int, int]  # the gold paragraph's span in the source file


def load(path: Path = DEFAULT) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"No SQuAD file at {path}: give one with SQUAD=path (the official SQuAD 2.0 development set is "
            "published at https://rajpurkar.github.io/SQuAD-explorer/)"
        )
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def trained_on() -> frozenset[str]:
    """The titles of the SQuAD articles the shipped reader was trained on (from its card)."""
    return frozenset(card()["trained_on"])


def write_corpus(data: list[dict], folder: Path) -> list[Question]:
    folder.mkdir(parents=True, exist_ok=True)
    questions = []
    for n, article in enumerate(data):
        source = folder / f"{n:02d}_{article['title']}.txt"
        parts, offset = [], 0
        for para in article["paragraphs"]:
            context = para["context"]
            span = (offset, offset + len(context))
            for qa in para["qas"]:
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                questions.append(
                    Question(qa["id"], qa["question"], str(source), not qa.get("is_impossible"), answers, span)
                )
            parts.append(context)
            offset += len(context) + 2
        source.write_text("\n\n".join(parts), encoding="utf-8")
    return questions


def _tokens(text: str) -> list[str]:
    text = re.sub(r"\b(a|an|the)\b", " ", re.sub(r"[^\w\s]", " ", text.lower()))
    return text.split()


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's token F1 (lower case, punctuation and articles removed)."""
    p, g = _tokens(prediction), _tokens(gold)
    common = sum((Counter(p) & Counter(g)).values())
    if not p or not g or not common:
        return float(p == g)
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


CURVE_POINTS = (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8)


def curve(outcomes: list[tuple[bool, bool, float, bool]], points: tuple[float, ...] = CURVE_POINTS) -> list[dict]:
    """Abstention on unanswerable questions against false abstention, at several `min_confidence`
    values: a question abstains at a point when its answer's confidence is below it, or always
    when it abstained for a reason other than confidence (`forced`). The answers themselves do
    not depend on the point, so one run gives the whole curve."""
    rows = []
    for t in points:
        unanswerable = [forced or conf < t for ok, forced, conf, _ in outcomes if not ok]
        answerable = [(forced or conf < t, right) for ok, forced, conf, right in outcomes if ok]
        rows.append(
            {
                "min_confidence": t,
                "abstention_unanswerable": sum(unanswerable) / len(unanswerable) if unanswerable else 0.0,
                "false_abstention": sum(a for a, _ in answerable) / len(answerable) if answerable else 0.0,
                "answered_right": sum(r and not a for a, r in answerable) / len(answerable) if answerable else 0.0,
            }
        )
    return rows


def _hit(spans: list[tuple[str, int, int]], q: Question, k: int) -> bool:
    lo, hi = q.paragraph
    return any(os.path.samefile(src, q.source) and start < hi and lo < end for src, start, end in spans[:k])


def benchmark(
    path: Path, folder: Path, *, sample: int | None, seed: int = 0, settings: Settings | None = None
) -> dict[str, Any]:
    """Run the benchmark with its corpus and index under `folder`; returns the figures."""
    from rag.qa import BriefingQA

    data = [a for a in load(path) if a["title"] not in trained_on()]
    if not data:
        raise InputError(f"The reader was trained on every article of {path}: nothing left to measure it on")
    questions = write_corpus(data, folder / "corpus")
    settings = settings or Settings()
    threshold = settings.min_confidence
    # every question is answered (no confidence floor), then abstains at `threshold` here: one run
    # gives the whole trade-off curve, the points below the chosen one included
    qa = BriefingQA(settings.with_(index_dir=folder / "index", min_confidence=0.0))
    t = time.perf_counter()
    qa.ingest([folder / "corpus"])
    ingest_s = time.perf_counter() - t
    if sample and sample < len(questions):
        questions = random.Random(seed).sample(questions, sample)
    hits: dict[str, list[tuple[bool, bool]]] = {"hybrid": [], "dense": [], "bm25": []}
    first, anyq, f1, abstain, ms, cited = [], [], [], [], [], []
    outcomes: list[tuple[bool, bool, float, bool]] = []  # answerable, forced abstention, confidence, first quote right
    for q in questions:
        runs = {
            name: [(p.article.source, p.chunk.start, p.chunk.end) for p in qa.retrieve(q.text, top_k=5, mode=mode)]
            for name, mode in (("hybrid", "hybrid"), ("dense", "dense"), ("bm25", "lexical"))
        }
        for name, spans in runs.items():
            if q.answerable:
                hits[name].append((_hit(spans, q, 1), _hit(spans, q, 5)))
        t = time.perf_counter()
        answer = qa.ask(q.text, offline=True)
        ms.append(1000 * (time.perf_counter() - t))
        forced = answer.abstained and bool(answer.note)  # a name never mentioned
        abstained = answer.abstained or answer.confidence < threshold
        if not q.answerable:
            abstain.append(abstained)
            outcomes.append((False, forced, answer.confidence, False))
            continue
        quotes = [c.quote for c in answer.citations]
        right = bool(quotes) and any(a in quotes[0] for a in q.answers)
        outcomes.append((True, forced, answer.confidence, right))
        cited.append(not abstained and _hit([(c.source, c.start, c.end) for c in answer.citations], q, 1))
        first.append(not abstained and right)
        anyq.append(not abstained and any(a in c for c in quotes for a in q.answers))
        prediction = answer.short_answer or (quotes[0] if quotes else "")
        f1.append(0.0 if abstained else max(token_f1(prediction, a) for a in q.answers))
    ms.sort()
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    return {
        "articles": [a["title"] for a in data],
        "questions": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "ingest_s": round(ingest_s, 1),
        "retrieval": {
            name: {"gold_paragraph_top1": mean([a for a, _ in v]), "gold_paragraph_top5": mean([b for _, b in v])}
            for name, v in hits.items()
        },
        "first_citation_in_gold_paragraph": mean(cited),
        "answer_in_first_quote": mean(first),
        "answer_in_any_quote": mean(anyq),
        "short_answer_f1": mean(f1),
        "abstention_accuracy_unanswerable": mean(abstain),
        "min_confidence": threshold,
        "abstention_curve": curve(outcomes),
        "latency_p50_ms": ms[len(ms) // 2] if ms else 0.0,
        "latency_p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))] if ms else 0.0,
    }
