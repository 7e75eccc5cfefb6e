"""Provider profiles: how to ask an OpenAI-compatible endpoint for JSON that fits a schema.

Every provider speaks `/v1/chat/completions`, but each constrains output its own way:

| profile | chosen when | structured output asked with |
|---|---|---|
| `openai` | no base URL, or a host under openai.com | `response_format: {type: json_schema, json_schema: {…, strict: true}}` |
| `ollama` | port 11434, "ollama" in the host, or models owned by `library` | `response_format` json_schema (Ollama ≥ 0.5) |
| `vllm` | models owned by `vllm` | `guided_json` (vLLM's guided decoding, in the request body) |
| `llamacpp` | models owned by `llamacpp` (llama.cpp server) or `me` (llama-cpp-python) | `response_format: {type: json_object, schema: …}` (enforced by grammar) |
| `generic` | anything else | `response_format` json_schema; `text` if the endpoint refuses it |
| `text` | `BRIEFING_LLM_PROVIDER=text`, or after a refusal | no constraint: the plain `ANSWER:` / `QUOTES:` format |

`BRIEFING_LLM_PROVIDER` names a profile; `auto` (the default) detects it from the base URL and,
when the URL says nothing, from the endpoint's `/v1/models` listing (one request, on the first
model call). This module only decides; `rag.llm.client` makes the requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

MECHANISMS = ("json_schema", "guided_json", "json_object", "text")


@dataclass(frozen=True)
class Profile:
    name: str
    mechanism: str  # one of MECHANISMS

    @property
    def structured(self) -> bool:
        return self.mechanism != "text"

    def request(self, schema: Mapping[str, Any], name: str) -> dict[str, Any]:
        """Keyword arguments for the chat call that constrain the reply to `schema`."""
        if self.mechanism == "json_schema":
            spec = {"name": name, "schema": _strict(schema), "strict": True}
            return {"response_format": {"type": "json_schema", "json_schema": spec}}
        if self.mechanism == "guided_json":
            return {"extra_body": {"guided_json": dict(schema)}}
        if self.mechanism == "json_object":
            return {"response_format": {"type": "json_object", "schema": dict(schema)}}
        return {}


_NOT_STRICT = ("maxLength", "minLength")  # keywords OpenAI's strict structured outputs reject


def _strict(schema: Any) -> Any:
    """`schema` without the keywords strict mode refuses (a grammar enforces them elsewhere)."""
    if isinstance(schema, Mapping):
        return {k: _strict(v) for k, v in schema.items() if k not in _NOT_STRICT}
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "openai": Profile("openai", "json_schema"),
        "ollama": Profile("ollama", "json_schema"),
        "vllm": Profile("vllm", "guided_json"),
        "llamacpp": Profile("llamacpp", "json_object"),
        "generic": Profile("generic", "json_schema"),
        "text": Profile("text", "text"),
    }
)
CHOICES = ("auto", *PROFILES)
TEXT = PROFILES["text"]

# `owned_by` in a /v1/models listing → profile (what each server is known to report)
_OWNERS = MappingProxyType(
    {"vllm": "vllm", "llamacpp": "llamacpp", "me": "llamacpp", "library": "ollama", "ollama": "ollama"}
)


def from_url(base_url: str | None) -> Profile | None:
    """The profile the base URL alone gives away, or None when it takes a look at the endpoint."""
    if not base_url:
        return PROFILES["openai"]
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if host == "openai.com" or host.endswith(".openai.com"):
        return PROFILES["openai"]
    if parts.port == 11434 or "ollama" in host:
        return PROFILES["ollama"]
    return None


def from_owners(owners: Sequence[str]) -> Profile:
    """The profile for an endpoint whose models list these `owned_by` values."""
    for owner in owners:
        name = _OWNERS.get(owner.strip().lower())
        if name:
            return PROFILES[name]
    return PROFILES["generic"]


def named(name: str) -> Profile | None:
    """The profile `BRIEFING_LLM_PROVIDER` names; None for `auto`."""
    if name == "auto":
        return None
    if name not in PROFILES:
        raise ValueError(f"unknown provider profile {name!r}: choose one of {', '.join(CHOICES)}")
    return PROFILES[name]
