"""Words that say the same thing, from the sentence encoder's vectors instead of a hand table.

A question asks "who wrote the study?" and the article says "the study's author"; "dispatched
troops" is "sent soldiers". `Paraphrases.similar(question_words, passage_words)` embeds each
word on its own with the bundled MiniLM encoder and pairs every question word with the passage
words whose vectors are close (cosine ≥ `threshold`): "wrote" ~ "author" 0.66, "soldiers" ~
"troops" 0.89, "cost" ~ "price" 0.73, while "missiles" ~ "soldiers" is 0.43 and "pages" ~
"meetings" 0.26. The answerer uses the pairs to credit a sentence for covering a question word
it words differently, and to tell whether what the question asks about is in a passage at all.

Ingest stores a vector for every content word of the corpus (`rag.index.lexical`, ~1 ms a new
word); a question reads its passages' words from there, and only words the index has no vector
for (question words, or a corpus ingested by another client) are encoded at question time. The
vectors used are kept in a bounded cache owned by the instance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from rag.index.encoder import Lookup, VectorCache

THRESHOLD = 0.65  # cosine of two single-word vectors that still name the same thing (SQuAD: 0.65 beat 0.6 and 0.7)


class Paraphrases:
    """Pairs words of similar meaning by the cosine of their encoder vectors."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], threshold: float = THRESHOLD, limit: int = 100_000):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self._cache = VectorCache(encode, limit)

    def vectors(self, words: Sequence[str], stored: Lookup | None = None) -> np.ndarray:
        """Unit vectors of `words`, one row each: from the cache, else from `stored` (the vectors
        the index computed at ingest), else encoded now; then cached."""
        return self._cache.vectors(words, stored)

    def similar(
        self, question_words: Iterable[str], passage_words: Iterable[str], stored: Lookup | None = None
    ) -> dict[str, dict[str, float]]:
        """Question word → the passage words that mean nearly the same (never itself), with their cosine."""
        qs = list(dict.fromkeys(question_words))
        ps = list(dict.fromkeys(passage_words))
        if not qs or not ps:
            return {}
        q, p = self.vectors(qs, stored), self.vectors(ps, stored)
        sims = q @ p.T
        out: dict[str, dict[str, float]] = {}
        for i, word in enumerate(qs):
            close = {ps[j]: float(sims[i, j]) for j in np.flatnonzero(sims[i] >= self.threshold) if ps[j] != word}
            if close:
                out[word] = close
        return out
