"""HTTP API for bots (FastAPI): `POST /ask` and an OpenAI-compatible `POST /v1/chat/completions`.

    POST /ask {"question": "...", "top_k": 6, "sources": [...], "date_from": "2024-01-01", "offline": false}
      → the `ask --json` schema: {"answer", "abstained", "citations": [...]}
    POST /v1/chat/completions {"model": "briefing", "messages": [...], "stream": false}
      → an OpenAI chat completion whose message is the answer; the verified citations ride along
        in the extra top-level field "citations" (and "briefing" holds abstained/standalone_question)

Earlier messages of a chat completion are the conversation: the last user message is rewritten
into a standalone question from them (no server-side state). `RagError`s become HTTP 400 with
an OpenAI-style error body. `create_app(qa)` builds the app; `ui.py` mounts the Gradio UI on it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field

from rag.errors import InputError, RagError
from rag.qa import BriefingQA
from rag.query.answer import NOT_COVERED
from rag.types import Answer, Budget, Filters, Focus, Turn


class AskRequest(BaseModel):
    question: str
    top_k: int | None = Field(default=None, ge=1, le=50)
    sources: list[str] = []
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    offline: bool = False


class Message(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None


MAX_MESSAGES = 200  # a conversation's messages in one chat completion (the rewriter reads the last turns)
MAX_BODY_BYTES = 1_000_000  # one API request's body


class ChatRequest(BaseModel):
    model: str = "briefing"
    messages: list[Message] = Field(max_length=MAX_MESSAGES)
    stream: bool = False


class BodyLimit:
    """ASGI middleware: an API request (`paths`) whose body passes `limit` bytes gets HTTP 413 with
    a message, whether it declares its length or streams it; other routes (the UI's uploads) pass."""

    def __init__(self, app: Any, limit: int, paths: tuple[str, ...]) -> None:
        self.app, self.limit, self.paths = app, limit, paths

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.paths):
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await self._refuse(send)
        # read the body here (it is small), then hand it on: a streamed body is stopped at the limit
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)  # the client left: let the app see it
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.limit:
                return await self._refuse(send)
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps(
            {"error": {"message": f"the request body is over {self.limit:,} bytes", "type": "request_too_large"}}
        ).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        text = " ".join(str(part.get("text", "")) for part in content if part.get("type") == "text")
    else:
        text = content or ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("every message must be valid Unicode text (this one holds a lone surrogate)") from None
    return text


def _filters(req: AskRequest) -> Filters:
    try:
        return Filters(sources=tuple(req.sources), date_from=req.date_from, date_to=req.date_to)
    except ValueError as e:
        raise InputError(str(e)) from None


def _content(answer: Answer) -> str:
    """The answer as a chat message: its text, and for an abstention the reason (what the corpus lacks)."""
    return f"{answer.text} {answer.note}" if answer.abstained and answer.note else answer.text


def _extra(answer: Answer) -> dict[str, Any]:
    return {
        "citations": [c.to_dict() for c in answer.citations],
        "briefing": {
            "answer": answer.text,  # final, verified text (a stream's deltas are provisional)
            "abstained": answer.abstained,
            "standalone_question": answer.standalone_question or answer.question,
            "answered_by": answer.answered_by,
            "note": answer.note,
            "about": answer.focus.title if answer.focus else "",
        },
    }


def create_app(qa: BriefingQA, *, auth: tuple[str, str] | None = None) -> FastAPI:
    """The API app; with `auth` (user, password) every API route requires HTTP Basic auth."""
    dependencies = [Depends(_basic_auth(auth))] if auth else []
    # With auth, the schema and the docs page are routes of the protected router, not FastAPI's
    # open defaults: they describe every endpoint and must not be served to anyone.
    hidden = {"docs_url": None, "redoc_url": None, "openapi_url": None} if auth else {}
    app = FastAPI(title="Briefing QA API", version="1", **hidden)
    api = APIRouter(dependencies=dependencies)
    if auth:

        @api.get("/openapi.json", include_in_schema=False)
        def openapi() -> dict[str, Any]:
            return app.openapi()

        @api.get("/docs", include_in_schema=False)
        def docs() -> Any:
            from fastapi.openapi.docs import get_swagger_ui_html

            return get_swagger_ui_html(openapi_url="/openapi.json", title="Briefing QA API")

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, paths=("/ask", "/v1/"))

    @app.exception_handler(RagError)
    async def rag_error(_: Request, exc: RagError) -> JSONResponse:
        message = str(exc).replace(str(qa.settings.index_dir), "(the server's index)")  # no server paths
        return JSONResponse(status_code=400, content={"error": {"message": message, "type": type(exc).__name__}})

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own body echoes the input, which JSON cannot carry when it is NaN or Infinity (a 500)
        problems = "; ".join(_problem(e) for e in exc.errors()[:10])
        return JSONResponse(
            status_code=422, content={"error": {"message": problems or "invalid request", "type": "invalid_request"}}
        )

    @api.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "articles": qa.article_count()}

    @api.post("/ask")
    def ask(req: AskRequest) -> dict[str, Any]:
        return qa.ask(req.question, filters=_filters(req), top_k=req.top_k, offline=req.offline).to_dict()

    @api.post("/v1/chat/completions", response_model=None)
    def chat_completions(req: ChatRequest) -> dict[str, Any] | StreamingResponse:
        users = [i for i, m in enumerate(req.messages) if m.role == "user"]
        if not users:
            raise InputError("messages must contain at least one user message")
        question = _text(req.messages[users[-1]].content)
        turns = _turns(req.messages[: users[-1]])
        search = qa.condenser.condense(question, turns, Budget.of(qa.settings))
        focus = qa.focus(turns, question, search)
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        if req.stream:
            return StreamingResponse(
                _sse(qa, search, question, focus, req.model, ident, created), media_type="text/event-stream"
            )
        answer = replace(qa.ask(search, focus=focus), question=question, standalone_question=search)
        return {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": req.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": _content(answer)}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **_extra(answer),
        }

    app.include_router(api)
    return app


def _basic_auth(auth: tuple[str, str] | None) -> Any:
    security = HTTPBasic()

    def check(credentials: HTTPBasicCredentials = Depends(security)) -> None:  # noqa: B008 - FastAPI's idiom
        user_ok = secrets.compare_digest(credentials.username, auth[0] if auth else "")
        pass_ok = secrets.compare_digest(credentials.password, auth[1] if auth else "")
        if not (user_ok and pass_ok):
            raise HTTPException(status_code=401, detail="wrong user or password", headers={"WWW-Authenticate": "Basic"})

    return check


def _turns(messages: list[Message]) -> list[Turn]:
    turns, pending = [], None
    for m in messages:
        if m.role == "user":
            pending = _text(m.content)
        elif m.role == "assistant" and pending is not None:
            said = _text(m.content)
            turns.append(Turn(pending, pending, said, abstained=said.startswith(NOT_COVERED)))
            pending = None
    return turns


def _sse(
    qa: BriefingQA, search: str, question: str, focus: Focus | None, model: str, ident: str, created: int
) -> Iterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra,
        }  # fmt: skip
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        stream = qa.ask_stream(search, focus=focus)
        for delta in stream:
            yield chunk({"content": delta})
        answer = replace(stream.answer, question=question, standalone_question=search)
        if answer.abstained and answer.note:
            yield chunk({"content": f" {answer.note}"})
        yield chunk({}, "stop", **_extra(answer))
    except RagError as e:
        yield chunk({"content": f"\n[error] {e}"}, "stop")
    yield "data: [DONE]\n\n"


def _problem(error: dict[str, Any]) -> str:
    """One problem of a request, as its sender can fix it: the field and what is wrong with it."""
    loc = error.get("loc", ())
    if error.get("type") == "json_invalid":  # loc is ("body", character offset)
        at = f" at character {loc[-1]}" if len(loc) > 1 else ""
        return f"the body is not valid JSON{at}: {error.get('ctx', {}).get('error', 'invalid')}"
    return f"{'.'.join(str(part) for part in loc if part != 'body') or 'body'}: {error.get('msg', 'invalid')}"
