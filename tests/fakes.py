"""Test doubles: a deterministic embedder that needs no model file."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from rag.index.embed import NumpyEmbedding


class HashEmbedding(NumpyEmbedding):
    """Bag of hashed lower-cased words → unit vector. Same text, same vector; counts its calls."""

    model_name: str = "hash-embedding-64"
    dim: int = 64
    calls: int = 0
    texts_embedded: int = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[i, 0] += 1e-3  # never the zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)
