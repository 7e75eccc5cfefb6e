"""A real HTTP server on 127.0.0.1 that speaks `/v1/chat/completions`, scripted per test.

Each request takes the next step of the script (the last step repeats). A step is a `Reply`:
a status code (429/500 send an OpenAI-style error body), an optional delay before answering,
a raw body to send instead (a truncated JSON body, an HTML page: a broken endpoint), and the
assistant's text — or a function of the request's messages that returns that text,
so a fake "model" can react to what it was sent. Streaming requests get Server-Sent Events
in the OpenAI chunk format. Every request body is recorded in `server.requests`.

`GET /v1/models` lists one model owned by `owned_by` (None: 404, an endpoint that lists nothing,
so the client's provider profile is `generic`). With `refuse_structured`, a request that asks
for structured output (`response_format` or `guided_json`) gets a 400, as from an endpoint that
does not support it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    content: str | Callable[[list[dict[str, Any]]], str] = ""
    status: int = 200
    delay: float = 0.0
    raw: bytes | None = None  # sent as the body instead of a completion (a broken endpoint)
    content_type: str = "application/json"
    pace: float = 0.0  # seconds between streamed pieces (a model that writes as it thinks)


class FakeOpenAI:
    def __init__(self, script: list[Reply], *, owned_by: str | None = None, refuse_structured: bool = False) -> None:
        self.script = list(script)
        self.requests: list[dict[str, Any]] = []
        self.listings = 0  # GET /v1/models requests
        self.pieces_sent = 0  # streamed pieces written so far
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                with owner._lock:
                    owner.listings += 1
                if not self.path.endswith("/models") or owned_by is None:
                    return self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                model = {"id": "fake-model", "object": "model", "created": 0, "owned_by": owned_by}
                return self._json(200, {"object": "list", "data": [model]})

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with owner._lock:
                    owner.requests.append(body)
                    step = owner.script[min(len(owner.requests) - 1, len(owner.script) - 1)]
                if refuse_structured and ("response_format" in body or "guided_json" in body):
                    message = {"message": "response_format is not supported", "type": "invalid_request_error"}
                    return self._json(400, {"error": message})
                if step.delay:
                    time.sleep(step.delay)
                if not self.path.endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                if step.raw is not None:
                    self.send_response(step.status)
                    self.send_header("Content-Type", step.content_type)
                    self.send_header("Content-Length", str(len(step.raw)))
                    self.end_headers()
                    self.wfile.write(step.raw)
                    return None
                if step.status != 200:
                    headers = {"retry-after": "0"} if step.status == 429 else {}
                    return self._json(
                        step.status, {"error": {"message": f"scripted {step.status}", "type": "server_error"}}, headers
                    )
                text = step.content(body["messages"]) if callable(step.content) else step.content
                if body.get("stream"):
                    return self._stream(body, text, step.pace)
                return self._json(200, _completion(body, text))

            def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], text: str, pace: float) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                pieces = [text[i : i + 7] for i in range(0, len(text), 7)] or [""]
                for i, piece in enumerate(pieces):
                    chunk = {
                        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": body.get("model"),
                        "choices": [{"index": 0, "delta": ({"role": "assistant"} if i == 0 else {}) | {"content": piece},
                                     "finish_reason": None}],
                    }  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    with owner._lock:
                        owner.pieces_sent += 1
                    if pace:
                        time.sleep(pace)
                done = {
                    "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": body.get("model"),
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }  # fmt: skip
                self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
