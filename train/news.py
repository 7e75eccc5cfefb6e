"""Questions generated from BBC news articles, for training the reader on news (a development step).

    python -m train.news [--out train/runs/news-questions.json] [--per-article 2]

Run in the project's own venv (it needs spaCy, as ingest does). For each article of
`../shared/news/bbc` numbered above `EVAL_LAST` in its section (articles 001-120 are where the
news evals live, ours and the ones we never see: nothing of them is read here), a few sentences
are turned into cloze questions: a named entity of the sentence is the answer, and the question
is the sentence with that entity replaced by a wh-phrase for its kind ("Tottenham manager who
acclaimed his players for their patience …?"). The output is in SQuAD's format, one "article"
per news file, so `python -m train.reader fit --extra FILE` draws the same negatives from it as
from SQuAD (another paragraph of the article; the paragraph without the answer's sentence).

The questions copy their sentence's words, so they teach little about paraphrase; what they add
is news text (headlines, quotes, scores, sums of money) and which kind of entity each wh-phrase
asks for. The articles' content is the BBC's and the file is never committed (`train/runs/` is
git-ignored); it can be made again from `../shared` at any time.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from rag.ingest.analyze import entities
from train.data import SHARED
from train.reader import RUNS

NEWS = SHARED / "news" / "bbc"
OUT = RUNS / "news-questions.json"
EVAL_LAST = 120  # articles 001-120 of each section hold the news evals: never read here
ASK = {
    "PERSON": "who",
    "ORG": "which organisation",
    "GPE": "where",
    "LOC": "where",
    "FAC": "where",
    "DATE": "when",
    "TIME": "at what time",
    "MONEY": "how much",
    "CARDINAL": "how many",
    "QUANTITY": "how much",
    "PERCENT": "what percentage",
    "NORP": "which group",
    "EVENT": "which event",
    "WORK_OF_ART": "which work",
    "PRODUCT": "which product",
}  # fmt: skip
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+[\"'”’]?|$)")


def articles(folder: Path = NEWS) -> list[tuple[str, str]]:
    """(name, text) of every article numbered above `EVAL_LAST`, each distinct text once, less
    those that tell a story of articles 001-120 again: the dataset holds the same story under
    several numbers, and a copy of an eval article must not be trained on (same headline, or a
    fifth of its sentences found in an eval article)."""
    paths = sorted(p for p in folder.glob("*/*.txt") if p.stem.isdigit())
    evals = [p.read_text(encoding="utf-8", errors="replace") for p in paths if int(p.stem) <= EVAL_LAST]
    headlines = {_headline(t) for t in evals}
    said = {s for t in evals for s in _sentences(t)}
    seen: set[str] = set()
    out = []
    for path in paths:
        if int(path.stem) <= EVAL_LAST:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if text in seen or _headline(text) in headlines:
            continue
        sentences = _sentences(text)
        if sentences and len(sentences & said) >= 0.2 * len(sentences):
            continue
        seen.add(text)
        out.append((f"bbc-{path.parent.name}-{path.stem}", text))
    return out


def _headline(text: str) -> str:
    return text.split("\n", 1)[0].strip().lower()


def paragraphs(text: str) -> list[str]:
    """An article's paragraphs long enough to ask about (the headline is not one)."""
    return [p.strip() for p in text.split("\n\n")[1:] if len(p.strip()) >= 100]


def _sentences(text: str) -> set[str]:
    """The text's sentences, lower-cased and stripped (to find a story told again)."""
    return {m.group(0).strip().lower() for m in _SENTENCE.finditer(text) if len(m.group(0).split()) >= 5}


def cloze(sentence: str, start: int, end: int, label: str) -> str | None:
    """`sentence` with `[start, end)` replaced by the wh-phrase for `label`, as a question."""
    words = len(sentence.split())
    if label not in ASK or not 6 <= words <= 40 or any(q in sentence for q in '"“”'):
        return None  # quoted speech: whose words, and where the sentence ends, is unclear
    before, after = sentence[:start].split()[-1:], sentence[end : end + 1]
    if after.isalnum() or after == "-" or (before and before[0][:1].isupper() and start > len(before[0]) + 1):
        return None  # part of a longer name or word ("Mr Howard", "Geneva-based"): the entity is cut
    question = f"{sentence[:start]}{ASK[label]}{sentence[end:]}".strip().strip("\"'“”‘’").rstrip(" .!?;:")
    return question[:1].upper() + question[1:] + "?"


def questions(name: str, texts: list[str], found: list, rng: random.Random, per_article: int) -> dict:
    """One SQuAD-format article from its `paragraphs` and their entities, a few with a question each."""
    out = {"title": name, "paragraphs": [{"context": p, "qas": []} for p in texts]}
    choices = []
    for k, (paragraph, labelled) in enumerate(zip(texts, found)):
        for match in _SENTENCE.finditer(paragraph):
            inside = [e for e in labelled if match.start() <= e.start and e.end <= match.end() and e.label in ASK]
            if inside:
                choices.append((k, match, rng.choice(inside)))
    for n, (k, match, entity) in enumerate(rng.sample(choices, min(per_article, len(choices)))):
        sentence = match.group(0)
        question = cloze(sentence, entity.start - match.start(), entity.end - match.start(), entity.label)
        if question is None:
            continue
        answer = texts[k][entity.start : entity.end]
        out["paragraphs"][k]["qas"].append(
            {
                "id": f"{name}-{n}",
                "question": question,
                "is_impossible": False,
                "answers": [{"text": answer, "answer_start": entity.start}],
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--per-article", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    data = []
    for name, text in articles():
        texts = paragraphs(text)
        data.append(questions(name, texts, entities(texts), rng, args.per_article))
    total = sum(len(p["qas"]) for a in data for p in a["paragraphs"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"version": "news-cloze", "data": data}, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {args.out}: {len(data)} articles, {total} questions")


if __name__ == "__main__":
    main()
