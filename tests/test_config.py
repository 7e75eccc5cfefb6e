"""Settings from the environment, and the calibration's prior shift."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag import ConfigError, Settings
from rag.query.answer import FEATURES, Calibration


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


def test_prior_equal_to_base_rate_is_the_fitted_model_and_higher_prior_raises_probability() -> None:
    fitted = Calibration(weights=(1.0,) * len(FEATURES), bias=-2.0, source="t", base_rate=0.3, prior=0.3)
    f = np.zeros(len(FEATURES))
    assert fitted.probability(f) == pytest.approx(1 / (1 + np.exp(2.0)))
    shifted = Calibration(weights=(1.0,) * len(FEATURES), bias=-2.0, source="t", base_rate=0.3, prior=0.8)
    odds = shifted.probability(f) / (1 - shifted.probability(f))
    assert odds == pytest.approx(np.exp(-2.0) * (0.8 / 0.2) / (0.3 / 0.7))
    with pytest.raises(ValueError):
        Calibration(weights=(), bias=0, source="", prior=1.0)


def test_shipped_calibration_loads() -> None:
    cal = Calibration.load()
    assert len(cal.weights) == len(FEATURES) and "calibrate" in cal.source
