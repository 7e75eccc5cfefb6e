"""Example questions for a corpus: what a reader would ask about the names its articles share.

`example_questions(texts, ask, n)` counts spaCy's PERSON, ORG and GPE entities in `texts`, asks
"Who is X?" / "What is reported about X?" of the most frequent (the kinds taking turns), and keeps a
question only when `ask` answers it confidently with a quote that names X: every example shown
works. A name is written as the articles write it ("the Friedrich Naumann Foundation").
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable, Sequence

from rag.ingest.analyze import entities
from rag.types import Answer

# How a reader asks about a name of each kind (spaCy labels); other kinds give no examples.
EXAMPLE_TEMPLATES = {"PERSON": "Who is {}?", "ORG": "What is reported about {}?", "GPE": "What is reported about {}?"}
EXAMPLE_CONFIDENCE = 0.7  # an example is shown only if the corpus answers it at least this confidently


def spread(sources: Sequence[tuple[str, str]], k: int) -> list[str]:
    """Up to `k` of the (id, source) articles, spread over their folders: the folders take turns,
    and within one the articles are taken evenly over its sorted ids (not its first few)."""
    folders: dict[str, list[str]] = {}
    for ident, source in sorted(sources):
        folders.setdefault(os.path.dirname(source), []).append(ident)
    share = max(1, -(-k // max(1, len(folders))))  # per folder, rounded up
    taken = [
        [ids[i * len(ids) // min(share, len(ids))] for i in range(min(share, len(ids)))] for ids in folders.values()
    ]
    return [i for turn in itertools.zip_longest(*taken) for i in turn if i][:k]


def example_questions(texts: Sequence[str], ask: Callable[[str], Answer], n: int = 4) -> list[str]:
    """Questions about the names `texts` share: a name counts once per text it appears in, and
    with several texts a name only one of them writes (a rare spelling, an obscure person) is left
    out; the kinds take turns; each question is kept only when `ask` answers it confidently with a
    quote that names it."""
    counts: Counter[str] = Counter()  # texts that mention the name
    articled: Counter[str] = Counter()  # mentions written "the Friedrich Naumann Foundation"
    mentions: Counter[str] = Counter()
    kinds: dict[str, str] = {}
    for text, found in zip(texts, entities(list(texts))):  # one spaCy batch
        here: set[str] = set()
        for e in found:
            written = text[e.start : e.end].replace("’", "'").removesuffix("'s").strip()
            name = written.removeprefix("the ").removeprefix("The ")  # the model takes the article in, or not
            if e.label in EXAMPLE_TEMPLATES and len(name.split()) >= 2 - (e.label != "PERSON"):
                here.add(name)
                mentions[name] += 1
                kinds.setdefault(name, e.label)
                articled[name] += name != written or text[: e.start].split()[-1:] in (["the"], ["The"])
        counts.update(here)
    shared = 2 if len(texts) >= 5 else 1
    ranked = sorted(
        (n_ for n_ in counts if counts[n_] >= shared), key=lambda name: (-counts[name], -mentions[name], name)
    )
    by_kind = [[name for name in ranked if kinds[name] == kind] for kind in EXAMPLE_TEMPLATES]
    mixed = [name for group in itertools.zip_longest(*by_kind) for name in group if name]  # kinds take turns
    out: list[str] = []
    for name in mixed[: 4 * n]:
        written = f"the {name}" if 2 * articled[name] > mentions[name] else name  # as the articles name it
        question = EXAMPLE_TEMPLATES[kinds[name]].format(written)
        answer = ask(question)
        quote = answer.citations[0].quote if answer.citations else ""
        if answer.confidence >= EXAMPLE_CONFIDENCE and not answer.conflicts and name in quote:
            out.append(question)
        if len(out) == n:
            break
    return out
