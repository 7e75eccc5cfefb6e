"""Our own news-style training questions, in SQuAD's format (a development step).

    python -m train.synthetic [--out train/runs/synthetic.json] [train/synthetic/*.jsonl]

`train/synthetic/*.jsonl` holds invented news articles (no real story, person or company) with
questions about them, written for this project by helpers that read nothing else: per article,
8 answerable questions whose answer is the shortest span of the text ("£10.3m", "Mark Ellison"),
worded as a reader would ask rather than as the text says it, and 4 on-topic questions that the
article does not answer. It is ours, so it is committed, unlike `../shared`.

Each article becomes one SQuAD "article": its body (the headline line dropped) in paragraphs of
about `WORDS` words, joined from its own short paragraphs. An answerable question goes to the
paragraph of its answer's first place in the body as a whole word or number ("50" is not found
in "£250,000"); an unanswerable one to the paragraph whose words it shares weigh most by their IDF
within the article (`train.data.Neighbours`: the place where it looks answerable). `python -m train.reader fit
--extra FILE` then draws the same negatives from them as from SQuAD.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from train.data import Neighbours
from train.reader import RUNS

SOURCE = Path(__file__).parent / "synthetic"
OUT = RUNS / "synthetic.json"
WORDS = 110  # about a SQuAD paragraph's length, and a passage's


def paragraphs(body: str) -> list[str]:
    """The body's own paragraphs joined into pieces of about `WORDS` words."""
    out: list[str] = []
    for part in (p.strip() for p in body.split("\n\n")):
        if not part:
            continue
        if out and len(out[-1].split()) + len(part.split()) <= WORDS:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def placed(answer: str, text: str) -> int:
    """Where `answer` first stands in `text` as a whole word or number, or -1."""
    before = r"(?<!\w)" if answer[:1].isalnum() else ""
    after = r"(?!\w)" if answer[-1:].isalnum() else ""
    found = re.search(before + re.escape(answer) + after, text)
    return found.start() if found else -1


def to_squad(article: dict, name: str) -> dict:
    """One written article as a SQuAD article; a question whose answer is not in the body is dropped."""
    title, _, body = article["text"].partition("\n\n")
    contexts = paragraphs(body)
    if not contexts:
        raise ValueError(f"{name}: the article has no text after its headline")
    qas: list[list[dict]] = [[] for _ in contexts]
    near = Neighbours([{"title": title, "paragraphs": [{"context": c} for c in contexts]}])
    for k, qa in enumerate(article["qas"]):
        entry = {"id": f"{name}-{k}", "question": qa["question"].strip()}
        answer = qa["answer"]
        if answer is None:
            like = near.of(entry["question"], "")
            best = contexts.index(like[0][1]) if like else 0
            qas[best].append({**entry, "answers": [], "is_impossible": True})
            continue
        place = next(((i, at) for i, c in enumerate(contexts) if (at := placed(answer, c)) >= 0), None)
        if place is None:
            continue
        i, start = place
        qas[i].append({**entry, "answers": [{"text": answer, "answer_start": start}], "is_impossible": False})
    return {
        "title": f"synthetic: {title.strip()}",
        "paragraphs": [{"context": c, "qas": q} for c, q in zip(contexts, qas)],
    }


def load(paths: list[Path]) -> list[dict]:
    """Every article of the written files (JSON lines), in SQuAD's format."""
    out = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                out.append(to_squad(json.loads(line), f"{path.stem}-{n}"))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.synthetic", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=sorted(SOURCE.glob("*.jsonl")))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    articles = load(args.files)
    questions = [qa for a in articles for p in a["paragraphs"] for qa in p["qas"]]
    impossible = sum(qa["is_impossible"] for qa in questions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"version": "synthetic-news", "data": articles}, ensure_ascii=False), "utf-8")
    print(f"wrote {args.out}: {len(articles)} articles, {len(questions)} questions ({impossible} unanswerable)")


if __name__ == "__main__":
    main()
