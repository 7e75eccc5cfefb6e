"""Words that say the same thing, from the sentence encoder's vectors instead of a hand table.

A question asks "who wrote the study?" and the article says "the study's author"; "dispatched
troops" is "sent soldiers". `Paraphrases.similar(question_words, passage_words)` embeds each
word on its own with the bundled MiniLM encoder and pairs every question word with the passage
words whose vectors are close (cosine ≥ `threshold`): "wrote" ~ "author" 0.66, "soldiers" ~
"troops" 0.89, "cost" ~ "price" 0.73, while "missiles" ~ "soldiers" is 0.43 and "pages" ~
"meetings" 0.26. The answerer uses the pairs to credit a sentence for covering a question word
it words differently, and to tell whether what the question asks about is in a passage at all.

Word vectors are kept in a bounded cache owned by the instance (a corpus' vocabulary is a few
tens of thousands of words: 384 floats each), so a word is encoded once per process.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from rag.types import Entity
from rag.vocab import stopwords

THRESHOLD = 0.65  # cosine of two single-word vectors that still name the same thing (SQuAD: 0.65 beat 0.6 and 0.7)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


def content_words(text: str, skip: Iterable[Entity] = (), names: bool = True) -> list[str]:
    """The lower-cased words of `text` that can carry meaning: letters, three or more, no
    stopwords, none inside the `skip` spans; with `names=False`, no capitalised word either (a
    name is matched as written: "Japan" is no paraphrase of "Korea")."""
    stop = stopwords("english")
    spans = [(e.start, e.end) for e in skip]
    out = []
    for m in _WORD.finditer(text):
        word = m.group(0).strip("'-")
        if (not names and word[0].isupper()) or any(a <= m.start() < b for a, b in spans):
            continue
        if word.lower() not in stop:
            out.append(word.lower())
    return out


class Paraphrases:
    """Pairs words of similar meaning by the cosine of their encoder vectors."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], threshold: float = THRESHOLD, limit: int = 100_000):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self._encode = encode
        self.threshold = threshold
        self._limit = limit
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, words: Sequence[str]) -> np.ndarray:
        """Unit vectors of `words`, one row each (encoded once, then cached)."""
        with self._lock:
            missing = [w for w in dict.fromkeys(words) if w not in self._vectors]
        if missing:
            fresh = self._encode(missing)
            with self._lock:
                if len(self._vectors) + len(missing) > self._limit:
                    self._vectors.clear()  # a vocabulary past the limit: start over rather than grow
                self._vectors.update(zip(missing, fresh))
        with self._lock:
            rows = [self._vectors.get(w) for w in words]
        if any(r is None for r in rows):  # cleared between the two steps by another thread
            return self._encode(list(words))
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    def similar(self, question_words: Iterable[str], passage_words: Iterable[str]) -> dict[str, dict[str, float]]:
        """Question word → the passage words that mean nearly the same (never itself), with their cosine."""
        qs = list(dict.fromkeys(question_words))
        ps = [w for w in dict.fromkeys(passage_words)]
        if not qs or not ps:
            return {}
        q, p = self.vectors(qs), self.vectors(ps)
        sims = q @ p.T
        out: dict[str, dict[str, float]] = {}
        for i, word in enumerate(qs):
            close = {ps[j]: float(sims[i, j]) for j in np.flatnonzero(sims[i] >= self.threshold) if ps[j] != word}
            if close:
                out[word] = close
        return out
