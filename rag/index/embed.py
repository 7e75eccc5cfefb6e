"""The bundled encoder as a llama-index `BaseEmbedding`, for llama-index components.

`NumpyEmbedding` is a `BaseEmbedding` defined by one method, `encode(texts) -> (n, d) unit
vectors`; `MiniLMEmbedding` is `rag.index.encoder.MiniLM` behind it. Answering a question uses
the encoder directly (importing llama-index costs a new process about two seconds); this module
is for code that hands the model to llama-index.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from rag.index.encoder import MINILM_ID, MiniLM


class NumpyEmbedding(BaseEmbedding):
    """A `BaseEmbedding` defined by one method, `encode(texts) -> (n, d) unit vectors`."""

    def encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.encode([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()


class MiniLMEmbedding(NumpyEmbedding):
    """all-MiniLM-L6-v2 (`rag.index.encoder.MiniLM`) as a llama-index embedding."""

    model_name: str = MINILM_ID
    embed_batch_size: int = 128
    threads: int = 0  # 0 lets onnxruntime choose (all cores)

    _encoder: Any = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    @property
    def dimension(self) -> int:
        return 384

    def encode(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            self._encoder = MiniLM(self.embed_batch_size, self.threads)
        return self._encoder.encode(texts)
