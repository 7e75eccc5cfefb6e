"""Example questions for a corpus: what a reader would ask about the names its articles share.

`example_questions(texts, ask, n)` counts spaCy's PERSON, ORG and GPE entities in `texts`, asks
"What did X say?" / "What happened in X?" of those most shared (folders or kinds taking turns), and keeps a
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
EXAMPLE_TEMPLATES = {"PERSON": "What did {} say?", "ORG": "What did {} say?", "GPE": "What happened in {}?"}
EXAMPLE_CONFIDENCE = 0.6  # an example is shown only if the corpus answers it at least this confidently


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


def example_questions(
    texts: Sequence[str], ask: Callable[[str], Answer], n: int = 4, groups: Sequence[str] | None = None
) -> list[str]:
    """Questions about the names `texts` share: a name counts once per text it appears in, and
    with several texts a name only one of them writes (a rare spelling, an obscure person) is left
    out. With `groups` (each text's folder) the folders take turns, each offering the name its own
    texts share most; else the kinds of name take turns. Each question is kept only when `ask`
    answers it confidently with a quote that names it, and no disagreement."""
    groups = list(groups) if groups is not None else [""] * len(texts)
    counts: Counter[str] = Counter()  # texts that mention the name
    in_group: dict[str, Counter[str]] = {g: Counter() for g in groups}
    articled: Counter[str] = Counter()  # mentions written "the Friedrich Naumann Foundation"
    mentions: Counter[str] = Counter()
    kinds: dict[str, str] = {}
    for text, group, found in zip(texts, groups, entities(list(texts))):  # one spaCy batch
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
        in_group[group].update(here)
    shared = 2 if len(texts) >= 5 else 1

    def ranked(names: Counter[str]) -> list[str]:
        kept = (name for name in names if counts[name] >= shared)
        return sorted(kept, key=lambda name: (-names[name], -counts[name], -mentions[name], name))

    if len(in_group) > 1:  # the folders take turns
        turns = [ranked(names) for names in in_group.values()]
    else:  # the kinds take turns
        everything = ranked(counts)
        turns = [[name for name in everything if kinds[name] == kind] for kind in EXAMPLE_TEMPLATES]
    out: list[str] = []
    tried: set[str] = set()
    budget = 4 * n  # questions asked at most
    while len(out) < n and budget > 0 and any(turns):
        for turn in turns:  # each folder (or kind) in turn gets one example, trying up to 3 of its names
            for _ in range(3):
                while turn and turn[0] in tried:
                    turn.pop(0)
                if not turn or len(out) == n or budget == 0:
                    break
                name = turn.pop(0)
                tried.add(name)
                budget -= 1
                if question := _answered(name, kinds[name], 2 * articled[name] > mentions[name], ask):
                    out.append(question)
                    break
    return out


def _answered(name: str, kind: str, articled: bool, ask: Callable[[str], Answer]) -> str | None:
    """The example question about `name`, if the corpus answers it confidently, quoting the name,
    with no disagreement."""
    question = EXAMPLE_TEMPLATES[kind].format(f"the {name}" if articled else name)  # as the articles name it
    answer = ask(question)
    quote = answer.citations[0].quote if answer.citations else ""
    ok = answer.confidence >= EXAMPLE_CONFIDENCE and not answer.conflicts and name in quote
    return question if ok else None
