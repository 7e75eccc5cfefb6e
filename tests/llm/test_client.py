"""The model adapter: every fault of the endpoint falls back to the offline answer within one budget."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import Answer, BriefingQA, Settings
from rag.serve.api import create_app
from rag.serve.cli import main
from tests.fake_openai import FakeOpenAI, Reply

Q = "What was the minimum arms estimate?"
BROKEN = {
    "truncated JSON": Reply(raw=b'{"id": "chatcmpl-1", "object": "chat.completion", "choices": [{"index": 0, "mess'),
    "HTML with status 200": Reply(
        raw=b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>", content_type="text/html"
    ),  # fmt: skip
    "JSON without choices": Reply(raw=b'{"error": null, "data": []}'),
    "choices of the wrong type": Reply(
        raw=b'{"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": "none"}'
    ),
    "broken event stream": Reply(raw=b"data: {not json\n\n", content_type="text/event-stream"),
}


def llm_settings(seed_qa: BriefingQA, server: FakeOpenAI, **changes: object) -> Settings:
    return seed_qa.settings.with_(openai_base_url=server.base_url, llm_model="fake-model", **changes)


def assert_offline_fallback(answer: Answer) -> None:
    assert answer.answered_by == "extractive" and "$1.7 billion" in answer.text
    assert answer.note.endswith("this is the extractive answer.")
    assert "fake-model did not answer" in answer.note or "reply could not be read" in answer.note
    for c in answer.citations:
        assert Path(c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote


@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_a_broken_reply_falls_back_on_every_path(seed_qa: BriefingQA, fault: str) -> None:
    with FakeOpenAI([BROKEN[fault]]) as server:
        qa = BriefingQA(llm_settings(seed_qa, server), embedder=seed_qa.embedder)
        assert_offline_fallback(qa.ask(Q))
        stream = qa.ask_stream(Q)
        deltas, final = list(stream), stream.answer
        assert_offline_fallback(final)
        assert "".join(deltas) == final.text
        assert_offline_fallback(qa.chat().ask(Q))
        http = TestClient(create_app(qa)).post("/ask", json={"question": Q})
        assert http.status_code == 200 and "extractive answer" in http.json()["note"]


def test_a_broken_reply_is_not_a_cli_traceback(
    seed_qa: BriefingQA, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAI([BROKEN["HTML with status 200"]]) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("BRIEFING_LLM_MODEL", "fake-model")
        monkeypatch.setenv("BRIEFING_INDEX_DIR", str(seed_qa.settings.index_dir))
        assert main(["ask", Q]) == 0
    out = capsys.readouterr().out
    assert "$1.7 billion" in out and "note: fake-model did not answer" in out


def test_a_stalled_endpoint_costs_one_budget_retries_included(seed_qa: BriefingQA) -> None:
    with FakeOpenAI([Reply("ANSWER: NOT_IN_CORPUS", delay=20.0)]) as server:
        settings = llm_settings(seed_qa, server, llm_budget=1.5, llm_timeout=30.0, llm_retries=2)
        qa = BriefingQA(settings, embedder=seed_qa.embedder)
        for ask in (qa.ask, lambda q: qa.ask_stream(q).answer, qa.chat().ask):
            t = time.monotonic()
            answer = ask(Q)
            elapsed = time.monotonic() - t
            assert elapsed < 1.5 + 1.0, elapsed  # the budget, plus retrieval and scoring
            assert_offline_fallback(answer)
            assert "within the 1.5 s budget" in answer.note


def test_retries_stop_when_the_budget_is_spent(seed_qa: BriefingQA) -> None:
    with FakeOpenAI([Reply(status=500, delay=0.6)]) as server:
        qa = BriefingQA(llm_settings(seed_qa, server, llm_budget=1.0, llm_retries=5), embedder=seed_qa.embedder)
        t = time.monotonic()
        answer = qa.ask(Q)
        assert time.monotonic() - t < 2.0
        assert len(server.requests) <= 2
    assert_offline_fallback(answer)


def test_the_default_budget_is_at_most_20_s() -> None:
    assert Settings().llm_budget <= 20
    assert Settings.from_env({"BRIEFING_LLM_BUDGET": "7.5"}).llm_budget == 7.5
