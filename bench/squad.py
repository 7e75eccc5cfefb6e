"""The SQuAD 2.0 benchmark articles as a corpus: one text file per article, offsets kept.

`load(path)` reads the SQuAD JSON; `write_corpus(data, folder)` writes each article as
`NN_Title.txt` with its paragraphs separated by a blank line and returns the questions with the
gold answers' character offsets shifted into that file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "squad-v2-dev-8articles.json"


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    source: str
    answerable: bool
    answers: tuple[str, ...]
    paragraph: tuple[int, int]  # the gold paragraph's span in the source file


def load(path: Path = DEFAULT) -> list[dict]:
    return json.loads(Path(path).read_text(encoding="utf-8"))["data"]


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
