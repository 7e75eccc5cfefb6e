"""Unanswerable questions made from answerable ones, in SQuAD's format (a development step).

    python -m train.swaps [--out train/runs/swaps.json] [--seed 13]

SQuAD 2.0's unanswerable questions were written to look answerable: most swap a name, a number
or a date of an answerable question for another (Rajpurkar, Jia & Liang, ACL 2018, table 2:
entity swap, "impossible condition", "mutual exclusion"). The reader sees few of them (about
1,100 in the articles it trains on), and its no-answer score separates them worst. So, for every
answerable question of the training articles (never the held-out ones, `train.data.HELD_OUT`),
a name or number of the question that its paragraph also states (spaCy's entities) is swapped
for another of the same kind that the article states elsewhere and the paragraph never does:
"When did the Normans conquer England?" → "When did the Franks conquer England?". The paragraph
then no longer answers the question, and still shares nearly all its words.

The result is one SQuAD "article" per training article, each paragraph with its swapped
questions marked `is_impossible`: `python -m train.reader fit --extra FILE` reads them as it
reads SQuAD's own unanswerable questions. Made again from `../shared`, never committed. Runs in
the project's venv (spaCy), not the training one.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from rag.ingest.analyze import entities
from train.data import BENCH_FILE, HELD_OUT, TRAIN_FILE, load_articles, split

OUT = Path(__file__).resolve().parent / "runs" / "swaps.json"
# the kinds of name and number a question turns on; not ORDINAL ("first") or vague QUANTITY
KINDS = frozenset({"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "WORK_OF_ART", "LAW", "DATE", "CARDINAL"})


def swapped(question: str, asked: tuple, context: str, stated: dict[str, set[str]], rng: random.Random) -> str | None:
    """`question` with one of its entities (`asked`) that `context` states swapped for another of
    the same kind from `stated` (the article's) that `context` never states; None when none can be."""
    lowered = context.lower()
    choices = []
    for e in asked:
        name = question[e.start : e.end]
        if e.label not in KINDS or name.lower() not in lowered:
            continue
        others = sorted(o for o in stated.get(e.label, ()) if o.lower() not in lowered and o.lower() != name.lower())
        if others:
            choices.append((e, others))
    if not choices:
        return None
    e, others = rng.choice(choices)
    return f"{question[: e.start]}{rng.choice(others)}{question[e.end :]}"


def swaps(articles: list[dict], seed: int = 13) -> list[dict]:
    """One SQuAD article per article: its paragraphs with their swapped questions, unanswerable."""
    rng = random.Random(seed)
    out = []
    for article in articles:
        paragraphs = [p["context"] for p in article["paragraphs"]]
        stated: dict[str, set[str]] = defaultdict(set)
        for text, found in zip(paragraphs, entities(paragraphs)):
            for e in found:
                stated[e.label].add(text[e.start : e.end])
        asked = [
            (p["context"], qa)
            for p in article["paragraphs"]
            for qa in p["qas"]
            if not qa["is_impossible"] and qa["answers"]
        ]
        made: dict[str, list[dict]] = defaultdict(list)
        for (context, qa), found in zip(asked, entities([qa["question"] for _, qa in asked])):
            question = swapped(qa["question"], found, context, stated, rng)
            if question:
                made[context].append(
                    {"id": f"swap-{qa['id']}", "question": question, "answers": [], "is_impossible": True}
                )
        if made:  # an article none of whose questions could be swapped is left out
            out.append(
                {
                    "title": f"{article['title']} (swapped)",
                    "paragraphs": [{"context": c, "qas": qas} for c, qas in made.items()],
                }
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    train, _ = split(load_articles(TRAIN_FILE) + load_articles(BENCH_FILE), HELD_OUT)
    data = swaps(train, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"version": "v2.0", "data": data}, ensure_ascii=False), encoding="utf-8")
    count = sum(len(p["qas"]) for a in data for p in a["paragraphs"])
    print(f"{count} unanswerable questions from {len(data)} training articles → {args.out}")


if __name__ == "__main__":
    main()
