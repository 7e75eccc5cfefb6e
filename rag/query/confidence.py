"""The confidence model: what the answer path knows of a passage's best span, weighed.

`FEATURES` are the numbers `rag.query.answer.find` gives every span (what they mean: that
module's docstring). `Confidence` holds two models over them, both fitted by `python -m
rag.evaluation.calibrate` on SQuAD 2.0 articles the reader never trained on and on the gated
real-news questions, and shipped as `models/confidence.json`: the probability that a span's
quote answers (what the answer abstains on) and a choice among one question's spans (which is
the answer).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files

import numpy as np

FEATURES = ("margin", "score", "null", "dense", "rank", "names", "coverage", "quote_names", "quote_coverage", "agree")


@dataclass(frozen=True)
class Confidence:
    """Two models over standardised `FEATURES`. `weights` and `bias`: a logistic model, the
    probability that a passage's best span and its sentence answer the question, fitted where
    the answer rate was `base_rate` and re-based to `prior` (Bayes' rule on the odds): what the
    answer abstains on. `choice`: a conditional logit, which of a question's spans answers it
    when one does (fitted on the answerable questions alone, each question's spans competing in
    one softmax): what chooses the answer. Without `choice`, the most probable span is chosen."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    base_rate: float = 0.5
    prior: float = 0.5
    source: str = ""
    choice: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for name in ("base_rate", "prior"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be strictly between 0 and 1, got {getattr(self, name)}")
        if not len(self.weights) == len(self.mean) == len(self.scale) == len(FEATURES):
            raise ValueError(f"a confidence model needs {len(FEATURES)} weights, means and scales")
        if self.choice and len(self.choice) != len(FEATURES):
            raise ValueError(f"a choice model needs {len(FEATURES)} weights, got {len(self.choice)}")

    def _standard(self, features: np.ndarray) -> np.ndarray:
        return (features - np.array(self.mean)) / np.array(self.scale)

    def probability(self, features: np.ndarray) -> float:
        shift = math.log(self.prior / (1 - self.prior)) - math.log(self.base_rate / (1 - self.base_rate))
        z = float(np.dot(self.weights, self._standard(features))) + self.bias + shift
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def preference(self, features: np.ndarray) -> float:
        """How strongly the choice model prefers this span to the question's others (a logit,
        comparable only among one question's spans; without `choice`, the span's probability)."""
        if not self.choice:
            return self.probability(features)
        return float(np.dot(self.choice, self._standard(features)))

    def chosen(self, spans: Sequence[np.ndarray]) -> int:
        """Which of one question's spans (their features) is the answer: the one the choice
        model prefers, and of equally preferred ones the most probable."""
        return max(range(len(spans)), key=lambda k: (self.preference(spans[k]), self.probability(spans[k])))

    @classmethod
    def load(cls, prior: float | None = None) -> Confidence:
        data = json.loads((files("rag.query") / "models" / "confidence.json").read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"confidence.json has features {data['features']}, expected {FEATURES}")
        base = float(data["base_rate"])
        return cls(
            weights=tuple(data["weights"]),
            bias=float(data["bias"]),
            mean=tuple(data["mean"]),
            scale=tuple(data["scale"]),
            base_rate=base,
            prior=base if prior is None else prior,
            source=data.get("source", ""),
            choice=tuple(data.get("choice", ())),
        )
