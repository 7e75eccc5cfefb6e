"""The bundled embedding model loads offline and embeds sensibly."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from rag.index.embed import MINILM_ID, MiniLMEmbedding


def test_minilm_embeds_offline_and_ranks_the_relevant_sentence_first() -> None:
    model = MiniLMEmbedding()
    v = model.encode(
        [
            "What was the minimum arms estimate?",
            "But even the minimum estimate of shipments is over $1.7 billion.",
            "Subscribe to our newsletter",
        ]
    )
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.3 > v[0] @ v[2]
    assert model.model_name == MINILM_ID


def test_batches_do_not_change_vectors() -> None:
    texts = [f"sentence {i} " * (i % 7 + 1) for i in range(40)]
    one = MiniLMEmbedding(embed_batch_size=1).encode(texts)
    many = MiniLMEmbedding(embed_batch_size=16).encode(texts)
    assert np.allclose(one, many, atol=1e-4)
    assert MiniLMEmbedding().encode([]).shape == (0, 384)


def test_llama_index_interface() -> None:
    model = MiniLMEmbedding()
    assert len(model.get_query_embedding("arms")) == 384
    assert len(model.get_text_embedding_batch(["a", "b"])) == 2


def test_a_long_text_is_not_batched_with_much_shorter_ones() -> None:
    from rag.index.encoder import _batches

    # shortest first; the 30-token question does not pad the 3- and 5-token texts to its length
    assert _batches([30, 3, 5], 32) == [[1, 2], [0]]
    assert _batches([10, 12, 20, 24], 32) == [[0, 1, 2, 3]]  # within twice the shortest, plus slack
    assert _batches([4] * 5, 2) == [[0, 1], [2, 3], [4]]  # never more than the batch size,
    assert [len(b) for b in _batches([4] * 200, 1000)] == [128, 72]  # nor than 512 padded tokens
    assert _batches([200] * 5, 32) == [[0, 1], [2, 3], [4]]
    assert _batches([600, 600], 32) == [[0], [1]]  # a longer text goes alone
    assert _batches([], 4) == []


def test_a_vector_cache_encodes_each_text_once_in_one_call_and_keeps_the_order() -> None:
    from rag.index.encoder import VectorCache

    calls: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    cache = VectorCache(encode, limit=10)
    first = cache.vectors(["what", "how many", "what"])
    second = cache.vectors(["how many", "who", "what"], stored=lambda texts: {"who": np.array([9.0, 9.0])})
    assert calls == [["what", "how many"]]  # a repeated text once; a stored vector is not encoded
    assert first[:, 0].tolist() == [4.0, 8.0, 4.0]
    assert second[:, 0].tolist() == [8.0, 9.0, 4.0]


def test_many_batches_run_side_by_side_with_the_same_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.index.encoder import MiniLM

    texts = [f"report {i} on the harbour " * (i % 5 + 20) for i in range(24)]  # 120+ tokens: 3 a batch
    alone = MiniLM(embed_batch_size=4, threads=1).encode(texts)  # one core: one batch at a time
    threads: set[str] = set()
    run = MiniLM._run

    def spy(self: MiniLM, session: Any, rows: list[list[int]]) -> np.ndarray:
        threads.add(threading.current_thread().name)
        return run(self, session, rows)

    monkeypatch.setattr(MiniLM, "_run", spy)
    side_by_side = MiniLM(embed_batch_size=4, threads=2).encode(texts)
    assert len(threads) == 2 and threading.current_thread().name not in threads
    assert np.allclose(alone, side_by_side, atol=1e-5)
    threads.clear()
    MiniLM(threads=2).encode(texts[:3])  # one batch: the calling thread runs it
    assert threads == {threading.current_thread().name}
