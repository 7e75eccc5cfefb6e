"""Settings: one typed, frozen pydantic-settings class, read from the environment only when
`Settings.from_env()` is called (constructing `Settings(...)` reads nothing but its arguments).

Every field can be set as `BRIEFING_<FIELD>` (`BRIEFING_TOP_K=8`); four keep their usual names:

| variable | meaning | default |
|---|---|---|
| BRIEFING_INDEX_DIR | where the persistent Chroma index lives | `index` |
| CHROMA_HOST / CHROMA_PORT | use a Chroma server instead of the local folder | unset |
| BRIEFING_COLLECTION | collection name prefix | `briefing` |
| BRIEFING_TOP_K | passages handed to the answerer | 6 |
| BRIEFING_MIN_CONFIDENCE | calibrated probability below which the answer abstains (the point chosen on the `make squad` trade-off curve: false abstention about 0.10) | 0.5 |
| BRIEFING_ANSWERABLE_PRIOR | expected share of questions the corpus answers (re-bases calibration) | 0.8 |
| OPENAI_API_KEY / OPENAI_BASE_URL | an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp…) | unset: offline |
| BRIEFING_LLM_MODEL | the model to ask (required with OPENAI_BASE_URL; `gpt-4o-mini` with only a key) | unset |
| BRIEFING_LLM_PROVIDER | how the endpoint is asked for structured output: `auto` (detected), `openai`, `ollama`, `vllm`, `llamacpp`, `generic`, `text` (see `rag.llm.profiles`) | auto |
| BRIEFING_LLM_BUDGET | seconds all model calls for one question may take, retries included; then the offline answer | 20 |
| BRIEFING_LLM_TIMEOUT / BRIEFING_LLM_RETRIES | seconds per request (capped by the budget) / retries on 429, 5xx, timeouts | 30 / 2 |
| BRIEFING_HISTORY_TURNS | turns of a conversation kept per session | 20 |

A bad value raises `ConfigError` naming the variable and what it needs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from rag.errors import ConfigError

_PREFIX = "BRIEFING_"


def _named(field: str, variable: str) -> Any:
    return AliasChoices(field, variable)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=_PREFIX, frozen=True, populate_by_name=True, extra="forbid", env_ignore_empty=True
    )

    index_dir: Path = Path("index")
    chroma_host: str | None = Field(None, validation_alias=_named("chroma_host", "CHROMA_HOST"))
    chroma_port: int = Field(8000, validation_alias=_named("chroma_port", "CHROMA_PORT"))
    collection: str = "briefing"
    top_k: int = Field(6, ge=1, le=50)  # passages (chunks) given to the answerer
    candidates: int = Field(20, ge=1)  # per retriever, before fusion (at least top_k are always fetched)
    chunk_chars: int = Field(700, ge=100)  # soft chunk size; sentences are never split
    embed_batch_size: int = Field(128, ge=1)  # texts in one model run at most (and 512 padded tokens)
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    answerable_prior: float = Field(0.8, gt=0.0, lt=1.0)
    near_duplicate: float = 0.8  # article-vector cosine from which two articles may be near-duplicates…
    near_duplicate_facts: float = 0.3  # …when they also share this share (Jaccard) of numbers and names
    max_question_chars: int = Field(2000, ge=1)
    openai_api_key: str | None = Field(None, repr=False, validation_alias=_named("openai_api_key", "OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_named("openai_base_url", "OPENAI_BASE_URL"))
    llm_model: str | None = None
    llm_provider: Literal["auto", "openai", "ollama", "vllm", "llamacpp", "generic", "text"] = "auto"
    llm_timeout: float = Field(30.0, gt=0)
    llm_retries: int = Field(2, ge=0)
    llm_budget: float = Field(20.0, gt=0)  # seconds for every model call of one question, retries included
    llm_gate: float = 0.2  # below this calibrated probability no model is asked: abstain at once
    history_turns: int = Field(20, ge=1)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as e:
            raise ConfigError(_explain(e)) from None

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.openai_base_url and not self.llm_model:
            raise ValueError(f"OPENAI_BASE_URL is set ({self.openai_base_url}) but no model: set BRIEFING_LLM_MODEL")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the environment is read by from_env, never as a side effect

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_model or self.openai_api_key)

    @property
    def remote(self) -> bool:
        return bool(self.chroma_host)

    def with_(self, **changes: Any) -> Settings:
        """A copy with `changes`, validated like a new object."""
        return type(self)(**{**self.model_dump(), **changes})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from `env` (the process environment by default); `overrides` win."""
        values = _Environment(cls, os.environ if env is None else env)()
        return cls(**{**values, **overrides})


CORPUS_INDEXES = Path(".indexes")


def corpus_index(folder: str | os.PathLike[str]) -> Path:
    """The index of its own that a corpus folder gets (`make run CORPUS=…`, `briefing --corpus`,
    `BriefingQA.for_corpus`): `.indexes/<folder name>-<hash of its absolute path>`, so two
    folders never share one and none is `index/`, the default."""
    import hashlib
    import re

    absolute = os.path.abspath(os.fspath(folder))
    name = re.sub(r"[^\w.-]+", "-", os.path.basename(absolute.rstrip(os.sep))).strip("-.") or "corpus"
    return CORPUS_INDEXES / f"{name[:40]}-{hashlib.sha256(absolute.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of `os.environ`."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self.mapping = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self.mapping, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def _variable(field: str) -> str:
    """The environment variable that sets `field`."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[-1])
    return f"{_PREFIX}{field.upper()}"


def _explain(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        loc = str(item["loc"][0]) if item["loc"] else ""
        field = next((n for n, f in Settings.model_fields.items() if loc in (n, _variable(n))), loc)
        message = str(item["msg"]).removeprefix("Value error, ")
        if field:
            parts.append(f"{_variable(field)} ({field}): {message}, got {item.get('input')!r}")
        else:
            parts.append(message)
    return "Bad setting: " + "; ".join(parts)
