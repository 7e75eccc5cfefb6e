"""Settings: one frozen object, read from the environment only when `Settings.from_env()` is called.

| variable | meaning | default |
|---|---|---|
| BRIEFING_INDEX_DIR | where the persistent Chroma index lives | `index` |
| CHROMA_HOST / CHROMA_PORT | use a Chroma server instead of the local folder | unset |
| BRIEFING_COLLECTION | collection name prefix | `briefing` |
| BRIEFING_TOP_K | passages handed to the answerer | 6 |
| BRIEFING_MIN_CONFIDENCE | calibrated probability below which the answer abstains | 0.5 |
| BRIEFING_ANSWERABLE_PRIOR | expected share of questions the corpus answers (re-bases calibration) | 0.8 |
| OPENAI_API_KEY / OPENAI_BASE_URL | an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp…) | unset: offline |
| BRIEFING_LLM_MODEL | the model to ask (required with OPENAI_BASE_URL; `gpt-4o-mini` with only a key) | unset |
| BRIEFING_LLM_BUDGET | seconds all model calls for one question may take, retries included; then the offline answer | 20 |
| BRIEFING_LLM_TIMEOUT / BRIEFING_LLM_RETRIES | seconds per request (capped by the budget) / retries on 429, 5xx, timeouts | 30 / 2 |
| BRIEFING_HISTORY_TURNS | turns of a conversation kept per session | 20 |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("index")
    chroma_host: str | None = None
    chroma_port: int = 8000
    collection: str = "briefing"
    top_k: int = 6  # passages (chunks) given to the answerer
    candidates: int = 20  # per retriever, before fusion
    chunk_chars: int = 700  # soft chunk size; sentences are never split
    embed_batch_size: int = 32
    min_confidence: float = 0.5
    answerable_prior: float = 0.8
    near_duplicate: float = 0.8  # article-vector cosine from which two articles may be near-duplicates…
    near_duplicate_facts: float = 0.3  # …when they also share this share (Jaccard) of numbers and names
    max_question_chars: int = 2000
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    llm_model: str | None = None
    llm_timeout: float = 30.0
    llm_retries: int = 2
    llm_budget: float = 20.0  # seconds for every model call of one question, retries included
    llm_gate: float = 0.2  # below this calibrated probability no model is asked: abstain at once
    history_turns: int = 20

    def __post_init__(self) -> None:
        if self.top_k < 1 or self.candidates < self.top_k:
            raise ConfigError(f"need 1 ≤ top_k ≤ candidates, got top_k={self.top_k}, candidates={self.candidates}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise ConfigError(f"min_confidence must be within [0, 1], got {self.min_confidence}")
        if not 0.0 < self.answerable_prior < 1.0:
            raise ConfigError(f"answerable_prior must be strictly between 0 and 1, got {self.answerable_prior}")
        if self.llm_timeout <= 0 or self.llm_budget <= 0 or self.llm_retries < 0 or self.history_turns < 1:
            raise ConfigError("llm_timeout and llm_budget must be > 0, llm_retries ≥ 0 and history_turns ≥ 1")
        if self.openai_base_url and not self.llm_model:
            raise ConfigError(f"OPENAI_BASE_URL is set ({self.openai_base_url}) but no model: set BRIEFING_LLM_MODEL")
        if self.chunk_chars < 100:
            raise ConfigError(f"chunk_chars must be at least 100, got {self.chunk_chars}")

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_model or self.openai_api_key)

    @property
    def remote(self) -> bool:
        return bool(self.chroma_host)

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        try:
            if v := env.get("BRIEFING_INDEX_DIR"):
                values["index_dir"] = Path(v)
            if v := env.get("CHROMA_HOST"):
                values["chroma_host"] = v
            if v := env.get("CHROMA_PORT"):
                values["chroma_port"] = int(v)
            if v := env.get("BRIEFING_COLLECTION"):
                values["collection"] = v
            if v := env.get("BRIEFING_TOP_K"):
                values["top_k"] = int(v)
            if v := env.get("BRIEFING_MIN_CONFIDENCE"):
                values["min_confidence"] = float(v)
            if v := env.get("BRIEFING_ANSWERABLE_PRIOR"):
                values["answerable_prior"] = float(v)
            for name, key, kind in (
                ("OPENAI_API_KEY", "openai_api_key", str),
                ("OPENAI_BASE_URL", "openai_base_url", str),
                ("BRIEFING_LLM_MODEL", "llm_model", str),
                ("BRIEFING_LLM_TIMEOUT", "llm_timeout", float),
                ("BRIEFING_LLM_BUDGET", "llm_budget", float),
                ("BRIEFING_LLM_RETRIES", "llm_retries", int),
                ("BRIEFING_HISTORY_TURNS", "history_turns", int),
            ):
                if v := env.get(name):
                    values[key] = kind(v)
        except ValueError as e:
            raise ConfigError(f"Bad number in the environment: {e}") from e
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
