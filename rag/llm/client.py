"""The language-model adapter: the only module that imports `openai`.

`build_llm(settings)` returns a llama-index `OpenAILike` chat model for any OpenAI-compatible
endpoint (OpenAI, vLLM, Ollama, llama.cpp server, LM Studio), or None when nothing is
configured. `complete` / `stream` call it under a `Budget`: one deadline per question that
covers every attempt, retry and backoff (`BRIEFING_LLM_BUDGET`, 20 s). Each attempt runs in a
worker thread that the caller stops waiting for when the budget is spent, so a stalled or
slowly dripping endpoint cannot hold a question longer than that. Retries (with backoff,
honouring Retry-After) happen here, only on 429, 5xx, timeouts and refused connections; the
`openai` client's and llama-index's own retry layers are off so the three do not multiply.

Whatever the endpoint sends back — an error status, a truncated JSON body, an HTML page with
status 200, a broken stream — becomes `LLMUnavailable`, which callers answer with the offline
(extractive) answer and a note; a request the endpoint refuses (400, 404, 415, 422: an option it
does not support) is `LLMRefused`, so a caller can ask again without it. Nothing from the endpoint
reaches a user unverified.

`Endpoint` is a configured model together with its provider profile (`rag.llm.profiles`): how it
is asked for structured output. The profile is named by `BRIEFING_LLM_PROVIDER` or detected on
the first call (the base URL, else one `/v1/models` request); `demote()` switches an endpoint
that refused structured output to the text format for the rest of the process.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from rag.config import Settings
from rag.errors import LLMRefused, LLMUnavailable
from rag.llm.profiles import PROFILES, TEXT, Profile, from_owners, from_url, named
from rag.types import Budget

log = logging.getLogger("briefing.llm")
T = TypeVar("T")


def build_llm(settings: Settings) -> Any:
    if not settings.llm_configured:
        return None
    import openai
    from llama_index.llms.openai_like import OpenAILike

    model = settings.llm_model or "gpt-4o-mini"
    timeout = min(settings.llm_timeout, settings.llm_budget)
    client = openai.OpenAI(
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.openai_base_url,
        timeout=timeout,
        max_retries=0,  # retried by `complete` / `stream`, within the question's budget
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
        timeout=timeout,
        openai_client=client,
    )


def model_name(llm: Any) -> str:
    return str(getattr(llm, "model", None) or getattr(getattr(llm, "metadata", None), "model_name", "llm"))


def _retryable(error: BaseException) -> bool:
    """Worth another attempt: rate limits, server errors, timeouts, refused connections."""
    import openai

    if isinstance(error, (TimeoutError, ConnectionError, openai.APITimeoutError, openai.APIConnectionError)):
        return True
    return isinstance(error, openai.APIStatusError) and (error.status_code == 429 or error.status_code >= 500)


def _retry_after(error: BaseException, attempt: int) -> float:
    """Seconds to wait before the next attempt: the server's Retry-After, else exponential."""
    response = getattr(error, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else 0.5 * 2**attempt
    except ValueError:
        return 0.5 * 2**attempt


REFUSALS = (400, 404, 415, 422)  # statuses with which an endpoint turns down an option it lacks


def _failure(llm: Any, budget: Budget, error: BaseException) -> LLMUnavailable:
    if isinstance(error, TimeoutError) and budget.remaining() <= 0:
        return LLMUnavailable(f"{model_name(llm)} did not answer within the {budget.seconds:g} s budget")
    detail = " ".join(str(error).split())[:200]
    status = getattr(error, "status_code", None)
    kind = LLMRefused if status in REFUSALS else LLMUnavailable
    return kind(f"{model_name(llm)} did not answer usably ({type(error).__name__}: {detail})")


def _attempts(llm: Any, budget: Budget, call: Callable[[], T]) -> T:
    """`call()` until it succeeds, retrying what is worth retrying while the budget lasts."""
    attempt = 0
    while True:
        try:
            return call()
        except Exception as e:  # noqa: BLE001 - whatever the endpoint did, the caller falls back
            wait = _retry_after(e, attempt)
            if attempt >= budget.retries or not _retryable(e) or wait >= budget.remaining():
                log.info("model call failed: %s: %s", type(e).__name__, e)
                raise _failure(llm, budget, e) from e
            attempt += 1
            time.sleep(wait)


def _in_thread(fn: Callable[[], T], timeout: float) -> T:
    """`fn()` in a worker thread; `TimeoutError` if it has not returned within `timeout` seconds
    (the worker is left to finish on its own: its HTTP timeout ends it)."""
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)

    def run() -> None:
        try:
            box.put((True, fn()))
        except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
            box.put((False, e))

    threading.Thread(target=run, daemon=True, name="briefing-llm").start()
    try:
        ok, value = box.get(timeout=max(timeout, 0.0))
    except queue.Empty:
        raise TimeoutError(f"no answer within {timeout:.1f} s") from None
    if ok:
        return value
    raise value


def _messages(messages: Sequence[tuple[str, str]]) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [ChatMessage(role=role, content=content) for role, content in messages]


def complete(
    llm: Any, messages: Sequence[tuple[str, str]], budget: Budget, request: Mapping[str, Any] | None = None
) -> str:
    """The model's whole reply to `messages` ((role, content) pairs), or `LLMUnavailable`;
    `request` adds keyword arguments to the chat call (a structured-output constraint)."""
    chat = _messages(messages)
    extra = dict(request or {})

    def once() -> str:
        reply = _in_thread(lambda: llm.chat(chat, **extra), budget.remaining())
        content = reply.message.content
        if content is None:
            return ""
        if not isinstance(content, str):
            raise ValueError(f"the reply has no text content ({type(content).__name__})")
        return content

    return _attempts(llm, budget, once)


def stream(
    llm: Any, messages: Sequence[tuple[str, str]], budget: Budget, request: Mapping[str, Any] | None = None
) -> Iterator[str]:
    """The model's reply as text deltas. The stream is opened (retried until its first delta)
    before this returns, so `LLMUnavailable` / `LLMRefused` for a stream that never started is
    raised here; once text has arrived, a failure ends the iteration with that error."""
    chat = _messages(messages)
    extra = dict(request or {})

    def first() -> Iterator[str]:
        deltas = _stream_in_thread(lambda: llm.stream_chat(chat, **extra), budget)
        head = next(deltas, None)
        return iter(()) if head is None else _chain(head, deltas)

    return _broken_off(llm, budget, _attempts(llm, budget, first))


def _broken_off(llm: Any, budget: Budget, deltas: Iterator[str]) -> Iterator[str]:
    try:
        yield from deltas
    except Exception as e:  # noqa: BLE001 - a stream that broke after it started
        raise _failure(llm, budget, e) from e


def _chain(head: str, rest: Iterator[str]) -> Iterator[str]:
    yield head
    yield from rest


def _stream_in_thread(open_stream: Callable[[], Any], budget: Budget) -> Iterator[str]:
    """Deltas read by a worker thread; each wait ends with `TimeoutError` when the budget is spent."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue()

    def run() -> None:
        try:
            for chunk in open_stream():
                if chunk.delta:
                    if not isinstance(chunk.delta, str):
                        raise ValueError(f"a stream chunk has no text ({type(chunk.delta).__name__})")
                    box.put(("delta", chunk.delta))
            box.put(("end", None))
        except BaseException as e:  # noqa: BLE001 - handed to the reading thread
            box.put(("error", e))

    threading.Thread(target=run, daemon=True, name="briefing-llm-stream").start()
    while True:
        try:
            kind, value = box.get(timeout=max(budget.remaining(), 0.0))
        except queue.Empty:
            raise TimeoutError(f"the stream stalled past the {budget.seconds:g} s budget") from None
        if kind == "end":
            return
        if kind == "error":
            raise value
        yield value


PROBE_SECONDS = 2.0


class Endpoint:
    """A configured model and its provider profile (named in the settings, or detected once)."""

    def __init__(self, llm: Any, provider: str = "auto", base_url: str | None = None) -> None:
        self.llm = llm
        self._base_url = base_url
        self._profile: Profile | None = named(provider) or from_url(base_url)  # None: look on the first call
        self._lock = threading.Lock()

    @classmethod
    def of(cls, llm: Any, settings: Settings) -> Endpoint:
        return cls(llm, settings.llm_provider, settings.openai_base_url)

    @property
    def name(self) -> str:
        return model_name(self.llm)

    def profile(self, budget: Budget) -> Profile:
        """How to ask this endpoint for structured output; detected on the first call (a failed
        look at the endpoint is not remembered: the next call looks again)."""
        with self._lock:
            if self._profile is not None:
                return self._profile
        found = self._probe(budget)
        with self._lock:
            if found is not None and self._profile is None:
                self._profile = found
            return self._profile or found or PROFILES["generic"]

    def structured(
        self, messages: Sequence[tuple[str, str]], budget: Budget, schema: Mapping[str, Any], name: str
    ) -> str | None:
        """The reply to `messages` asked for as JSON fitting `schema`; None when this endpoint does
        no structured output (its profile is `text`, or it refused now and is demoted): ask in text."""
        profile = self.profile(budget)
        if not profile.structured:
            return None
        try:
            return complete(self.llm, messages, budget, profile.request(schema, name))
        except LLMRefused:
            self.demote()
            return None

    def demote(self) -> None:
        """The endpoint refused structured output: use the text format from now on."""
        with self._lock:
            if self._profile is not TEXT:
                log.info("%s refused structured output; using the text format", self.name)
            self._profile = TEXT

    def _probe(self, budget: Budget) -> Profile | None:
        client = getattr(self.llm, "_get_client", None)
        if client is None:
            return PROFILES["generic"]  # not an OpenAI-style client: nothing to ask
        try:
            page = _in_thread(lambda: client().models.list(), min(PROBE_SECONDS, budget.remaining()))
            owners = [str(getattr(m, "owned_by", "") or "") for m in getattr(page, "data", [])]
        except Exception as e:  # noqa: BLE001 - an endpoint that cannot list its models is "generic"
            log.info("could not list the models of %s: %s", self._base_url, e)
            return None
        return from_owners(owners)
