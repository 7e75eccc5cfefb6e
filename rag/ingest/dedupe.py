"""Near-duplicate articles, decided from their text: the facts each states, and when two articles
that are close in topic report the same facts (two write-ups of one study, not two stories on one
subject). Finding the close articles is the index's job (`rag.index.build`); this module only
reads text.
"""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet

from rag.vocab import MULTIWORD_NAME, quantities, stopwords


def same_story(
    cosine: float, mine: AbstractSet[str], theirs: AbstractSet[str], *, min_cosine: float, min_shared: float
) -> bool:
    """Close article vectors (cosine ≥ `min_cosine`) **and** shared facts (Jaccard ≥ `min_shared`)."""
    shared = len(mine & theirs) / max(len(mine | theirs), 1)
    return cosine >= min_cosine and shared >= min_shared


def facts(text: str) -> set[str]:
    """The numbers, years and multi-word names an article states, normalised ("$1.7 billion" → "1.7b").

    A capitalised word that opens a sentence is not taken as part of a longer name ("Author Maria
    Lopez" → "maria lopez")."""
    numbers = {
        re.sub(r"[^\d.]", "", m.group(0)) + ("b" if "billion" in m.group(0) else "m" if "million" in m.group(0) else "")
        for m in quantities(text)
        if any(c.isdigit() for c in m.group(0))
    }
    names = set()
    for m in MULTIWORD_NAME.finditer(text):
        words = m.group(0).replace("’", "'").split()
        sentence_start = not text[: m.start()].strip() or text[: m.start()].rstrip()[-1] in '.!?"”'
        while words and (words[0].lower() in stopwords("english") or (sentence_start and len(words) > 2)):
            words, sentence_start = words[1:], False
        if len(words) >= 2:
            names.add(" ".join(words).lower().removesuffix("'s"))
    years = set(re.findall(r"\b(?:19|20)\d\d\b", text))
    return numbers | names | years
