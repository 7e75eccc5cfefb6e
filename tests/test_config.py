"""Settings from the environment, and the confidence model's prior shift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag import ConfigError, Settings
from rag.query.confidence import FEATURES, Confidence


def test_settings_from_env() -> None:
    s = Settings.from_env({"BRIEFING_INDEX_DIR": "/x", "CHROMA_HOST": "h", "CHROMA_PORT": "9", "BRIEFING_TOP_K": "3"})
    assert (s.index_dir, s.chroma_host, s.chroma_port, s.top_k, s.remote) == (Path("/x"), "h", 9, 3, True)
    assert Settings.from_env({}).remote is False


@pytest.mark.parametrize(
    "env",
    [
        {"BRIEFING_TOP_K": "many"},
        {"BRIEFING_TOP_K": "0"},
        {"BRIEFING_MIN_CONFIDENCE": "2"},
        {"BRIEFING_ANSWERABLE_PRIOR": "1"},
    ],
)
def test_bad_settings_are_config_errors_naming_the_variable(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=next(iter(env))):
        Settings.from_env(env)


def test_constructing_settings_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_TOP_K", "9")
    assert Settings().top_k == 6
    assert Settings.from_env().top_k == 9
    assert Settings.from_env(top_k=4).top_k == 4  # an explicit override wins


def test_every_field_has_a_variable_and_unknown_fields_are_refused() -> None:
    assert Settings.from_env({"BRIEFING_CHUNK_CHARS": "900", "briefing_top_k": "5"}).chunk_chars == 900
    with pytest.raises(ConfigError, match="top_kk"):
        Settings(top_kk=3)
    with pytest.raises(ConfigError, match="BRIEFING_TOP_K"):
        Settings().with_(top_k=0)


def _confidence(prior: float) -> Confidence:
    n = len(FEATURES)
    return Confidence((1.0,) * n, -2.0, (0.0,) * n, (1.0,) * n, base_rate=0.3, prior=prior, source="t")


def test_prior_equal_to_base_rate_is_the_fitted_model_and_higher_prior_raises_probability() -> None:
    f = np.zeros(len(FEATURES))
    assert _confidence(0.3).probability(f) == pytest.approx(1 / (1 + np.exp(2.0)))
    shifted = _confidence(0.8).probability(f)
    assert shifted / (1 - shifted) == pytest.approx(np.exp(-2.0) * (0.8 / 0.2) / (0.3 / 0.7))
    with pytest.raises(ValueError):
        _confidence(1.0)
    with pytest.raises(ValueError, match="weights"):
        Confidence((1.0,), 0.0, (0.0,), (1.0,))


def test_the_shipped_confidence_model_loads() -> None:
    model = Confidence.load()
    assert len(model.weights) == len(FEATURES) and "calibrate" in model.source
