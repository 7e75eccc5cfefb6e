"""The language-model adapter: the only module that imports `openai`.

`build_llm(settings)` returns a llama-index `OpenAILike` chat model for any OpenAI-compatible
endpoint (OpenAI, vLLM, Ollama, llama.cpp server, LM Studio), or None when nothing is
configured. Its `openai.OpenAI` client carries the timeout and the bounded retries (exponential
backoff on 429, 5xx and timeouts, honouring Retry-After); llama-index's own retry layer is
switched off so the two do not multiply. `complete`/`stream` call any llama-index LLM and turn
transport failures into `LLMUnavailable`, which callers answer with the offline fallback.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rag.config import Settings
from rag.errors import RagError


class LLMUnavailable(RagError):
    """The configured language model did not answer in time (or at all)."""


def build_llm(settings: Settings) -> Any:
    if not settings.llm_configured:
        return None
    import openai
    from llama_index.llms.openai_like import OpenAILike

    model = settings.llm_model or "gpt-4o-mini"
    client = openai.OpenAI(
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_retries,
    )
    return OpenAILike(
        model=model,
        api_base=settings.openai_base_url,
        api_key=settings.openai_api_key or "not-needed",
        is_chat_model=True,
        context_window=16384,
        temperature=0.0,
        max_tokens=700,
        max_retries=0,
        timeout=settings.llm_timeout,
        openai_client=client,
    )


def model_name(llm: Any) -> str:
    return str(getattr(llm, "model", None) or getattr(getattr(llm, "metadata", None), "model_name", "llm"))


def _transport_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [TimeoutError, ConnectionError]
    try:
        import httpx
        import openai

        errors += [openai.OpenAIError, httpx.HTTPError]
    except ImportError:  # pragma: no cover - openai is a dependency
        pass
    return tuple(errors)


def _messages(messages: Sequence[tuple[str, str]]) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=role, content=content) for role, content in messages]


def complete(llm: Any, messages: Sequence[tuple[str, str]]) -> str:
    """The model's whole reply to `messages` ((role, content) pairs)."""
    try:
        return llm.chat(_messages(messages)).message.content or ""
    except _transport_errors() as e:
        raise LLMUnavailable(f"{model_name(llm)} did not answer ({type(e).__name__}: {e})") from e


def stream(llm: Any, messages: Sequence[tuple[str, str]]) -> Iterator[str]:
    """The model's reply as text deltas."""
    try:
        for chunk in llm.stream_chat(_messages(messages)):
            if chunk.delta:
                yield chunk.delta
    except _transport_errors() as e:
        raise LLMUnavailable(f"{model_name(llm)} did not answer ({type(e).__name__}: {e})") from e
