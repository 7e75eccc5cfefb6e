"""Example questions for a corpus: what a reader would ask about the names it mentions most.

`example_questions(texts, ask, n)` counts spaCy's PERSON, ORG and GPE entities in `texts`, asks
"Who is X?" / "What is reported about X?" of the most frequent (the kinds taking turns), and keeps a
question only when `ask` answers it confidently with a quote that names X: every example shown
works. A name is written as the articles write it ("the Friedrich Naumann Foundation").
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Sequence

from rag.ingest.analyze import entities
from rag.types import Answer

# How a reader asks about a name of each kind (spaCy labels); other kinds give no examples.
EXAMPLE_TEMPLATES = {"PERSON": "Who is {}?", "ORG": "What is reported about {}?", "GPE": "What is reported about {}?"}
EXAMPLE_CONFIDENCE = 0.7  # an example is shown only if the corpus answers it at least this confidently


def example_questions(texts: Sequence[str], ask: Callable[[str], Answer], n: int = 4) -> list[str]:
    counts: Counter[str] = Counter()
    articled: Counter[str] = Counter()  # mentions written "the Friedrich Naumann Foundation"
    kinds: dict[str, str] = {}
    for text, found in zip(texts, entities(list(texts))):  # one spaCy batch
        for e in found:
            written = text[e.start : e.end].replace("’", "'").removesuffix("'s").strip()
            name = written.removeprefix("the ").removeprefix("The ")  # the model takes the article in, or not
            if e.label in EXAMPLE_TEMPLATES and len(name.split()) >= 2 - (e.label != "PERSON"):
                counts[name] += 1
                kinds.setdefault(name, e.label)
                articled[name] += name != written or text[: e.start].split()[-1:] in (["the"], ["The"])
    ranked = sorted(counts, key=lambda name: (-counts[name], name))
    by_kind = [[name for name in ranked if kinds[name] == kind] for kind in EXAMPLE_TEMPLATES]
    mixed = [name for group in itertools.zip_longest(*by_kind) for name in group if name]  # kinds take turns
    out: list[str] = []
    for name in mixed[: 4 * n]:
        written = f"the {name}" if 2 * articled[name] > counts[name] else name  # as the articles name it
        question = EXAMPLE_TEMPLATES[kinds[name]].format(written)
        answer = ask(question)
        quote = answer.citations[0].quote if answer.citations else ""
        if answer.confidence >= EXAMPLE_CONFIDENCE and name in quote:
            out.append(question)
        if len(out) == n:
            break
    return out
