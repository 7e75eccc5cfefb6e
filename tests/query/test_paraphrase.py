"""Word paraphrases from encoder vectors: the pairs, the cache, and which words take part."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index.terms import content_words
from rag.query.paraphrase import Paraphrases
from rag.types import Entity

# Unit vectors by hand: "troops" sits next to "soldiers", "missiles" is far from both.
_VECTORS = {
    "soldiers": [1.0, 0.0, 0.0],
    "troops": [0.9, 0.436, 0.0],
    "missiles": [0.3, 0.0, 0.954],
    "deployed": [0.0, 1.0, 0.0],
}


class _Encoder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, words: list[str]) -> np.ndarray:
        self.seen += words
        return np.array([_VECTORS[w] for w in words], dtype=np.float32)


def test_pairs_words_whose_vectors_are_close_and_never_a_word_with_itself() -> None:
    p = Paraphrases(_Encoder(), threshold=0.8)
    found = p.similar(["soldiers", "missiles"], ["troops", "soldiers", "deployed"])
    assert set(found) == {"soldiers"}
    assert set(found["soldiers"]) == {"troops"} and found["soldiers"]["troops"] == pytest.approx(0.9, abs=1e-3)


def test_each_word_is_encoded_once() -> None:
    encoder = _Encoder()
    p = Paraphrases(encoder)
    p.similar(["soldiers"], ["troops", "missiles"])
    p.similar(["troops", "soldiers"], ["missiles", "deployed"])
    assert sorted(encoder.seen) == sorted(_VECTORS)


def test_a_full_cache_starts_over_instead_of_growing() -> None:
    encoder = _Encoder()
    p = Paraphrases(encoder, limit=2)
    p.vectors(["soldiers", "troops"])
    p.vectors(["missiles"])  # past the limit: the cache is emptied, then holds "missiles"
    p.vectors(["missiles", "soldiers"])
    assert encoder.seen == ["soldiers", "troops", "missiles", "soldiers"]


def test_bad_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        Paraphrases(_Encoder(), threshold=0.0)


def test_content_words_leave_out_stopwords_names_and_entity_spans() -> None:
    text = "How many soldiers did Pyongyang send to the Donbas front?"
    assert content_words(text, names=False) == ["many", "soldiers", "send", "front"]
    donbas = text.index("Donbas")
    skip = [Entity(donbas, donbas + len("Donbas"), "GPE")]
    assert "donbas" not in content_words(text, skip=skip)
    assert "pyongyang" in content_words(text, skip=skip)
