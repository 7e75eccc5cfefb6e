"""The HTTP API for bots: /ask, OpenAI-compatible /v1/chat/completions (plain and streaming), auth."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import BriefingQA
from rag.serve.api import MAX_BODY_BYTES, MAX_MESSAGES, create_app
from tests.servers import serve


@pytest.fixture(scope="module")
def client(seed_qa: BriefingQA) -> TestClient:
    return TestClient(create_app(seed_qa))


def test_ask_returns_the_cli_json_schema(client: TestClient) -> None:
    r = client.post("/ask", json={"question": "What was the minimum arms estimate?"})
    assert r.status_code == 200
    data = r.json()
    assert {"answer", "abstained", "citations"} <= set(data) and "$1.7 billion" in data["answer"]
    assert set(data) <= {"answer", "abstained", "citations", "conflicts", "note", "standalone_question"}
    for side in data.get("conflicts", []):  # the two articles qualify the minimum differently
        assert side["value"] in data["citations"][side["citation"] - 1]["quote"]
    for c in data["citations"]:
        assert Path(c["source"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["quote"]


def test_ask_filters_and_errors(client: TestClient, seed_qa: BriefingQA) -> None:
    only = next(a.source for a in seed_qa.articles() if "001_" in a.source)
    # both seed articles state it; the filter keeps the other one out
    r = client.post(
        "/ask", json={"question": "How much are North Korea's arms sales to Russia worth?", "sources": [only]}
    )
    assert {c["source"] for c in r.json()["citations"]} == {only}
    bad = client.post("/ask", json={"question": "   "})
    assert bad.status_code == 400 and "empty" in bad.json()["error"]["message"]
    assert (
        client.post("/ask", json={"question": "x", "date_from": "2024-02-01", "date_to": "2024-01-01"}).status_code
        == 400
    )
    assert client.post("/ask", json={}).status_code == 422


def test_chat_completions_carry_verified_citations_and_use_the_conversation(
    client: TestClient, seed_qa: BriefingQA
) -> None:
    r = client.post(
        "/v1/chat/completions",
        json={
            "model": "briefing",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "Who wrote the study?"},
                {"role": "assistant", "content": "Olena Guseinova."},
                {"role": "user", "content": "What does she say Russia needs?"},
            ],
        },
    )
    assert r.status_code == 200
    data = r.json()
    assert data["object"] == "chat.completion" and "mmunition" in data["choices"][0]["message"]["content"]
    assert data["briefing"]["standalone_question"] == "What does Olena Guseinova say Russia needs?"
    assert data["citations"] and all("ammunition" in c["quote"] for c in data["citations"])
    # the conversation's focus: the article the last answer came from, found by its words
    assert data["briefing"]["about"] in {
        a.title for a in seed_qa.articles() if "Guseinova" in seed_qa.article_text(a.id)
    }


def test_any_openai_client_can_talk_to_the_corpus(seed_qa: BriefingQA) -> None:
    import openai

    with serve(create_app(seed_qa)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=60)
        reply = client.chat.completions.create(
            model="briefing", messages=[{"role": "user", "content": "Who wrote the study?"}]
        )
        assert "Olena Guseinova" in reply.choices[0].message.content
        assert reply.model_extra["citations"]
        stream = client.chat.completions.create(
            model="briefing", messages=[{"role": "user", "content": "Who wrote the study?"}], stream=True
        )
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "Olena Guseinova" in text
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].model_extra["citations"]


def test_api_auth(seed_qa: BriefingQA) -> None:
    client = TestClient(create_app(seed_qa, auth=("ann", "s3cret")))
    assert client.post("/ask", json={"question": "Who wrote the study?"}).status_code == 401
    token = base64.b64encode(b"ann:s3cret").decode()
    ok = client.post("/ask", json={"question": "Who wrote the study?"}, headers={"Authorization": f"Basic {token}"})
    assert ok.status_code == 200
    health = client.get("/health", headers={"Authorization": f"Basic {token}"})
    assert health.json() == {"status": "ok", "articles": len(seed_qa.articles())}  # counted, not listed


def test_docs_and_schema_need_the_credentials_too(seed_qa: BriefingQA) -> None:
    client = TestClient(create_app(seed_qa, auth=("ann", "s3cret")))
    for path in ("/docs", "/openapi.json", "/redoc", "/health"):
        assert client.get(path).status_code in (401, 404), path
    token = base64.b64encode(b"ann:s3cret").decode()
    headers = {"Authorization": f"Basic {token}"}
    assert "/ask" in client.get("/openapi.json", headers=headers).json()["paths"]
    assert client.get("/docs", headers=headers).status_code == 200
    assert TestClient(create_app(seed_qa)).get("/openapi.json").status_code == 200  # no auth: open, as before


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"question": "Who wrote \\ud800 the study?"}', 400),  # a lone surrogate: not valid Unicode
        ('{"question": "Who wrote the study?", "top_k": 0}', 422),
        ('{"question": "Who wrote the study?", "top_k": -1}', 422),
        ('{"question": 123}', 422),
        ('{"question": "Who wrote the study?", "top_k": NaN}', 422),  # finite numbers only
        ('{"question": "Who wrote the study?", "top_k": Infinity}', 422),
        ('{"question": "Who wrote the study?", "top_k": 1e308}', 422),
    ],
)
def test_bad_input_is_a_client_error_not_a_crash(client: TestClient, body: str, status: int) -> None:
    r = client.post("/ask", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["error"]["message"]  # a message, in the API's one error shape


def test_a_body_that_is_not_json_says_so(client: TestClient) -> None:
    r = client.post("/ask", content='{"question": }', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("the body is not valid JSON at character 13")


def test_requests_are_bounded_with_a_message(client: TestClient, seed_qa: BriefingQA) -> None:
    many = {"messages": [{"role": "user", "content": "Who wrote the study?"}] * (MAX_MESSAGES + 1)}
    r = client.post("/v1/chat/completions", json=many)
    assert r.status_code == 422 and "at most" in r.json()["error"]["message"]
    big = {"question": "Who wrote the study?", "sources": ["x" * 1000] * (MAX_BODY_BYTES // 1000)}
    r = client.post("/ask", json=big)
    assert r.status_code == 413 and "over" in r.json()["error"]["message"]

    def streamed():  # no declared length: stopped at the limit all the same
        for _ in range(MAX_BODY_BYTES // 100_000 + 2):
            yield b" " * 100_000

    r = client.post("/ask", content=streamed(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = client.post("/ask", json={"question": "Who wrote the study?", "sources": ["seeds/x.txt"] * 2000})
    assert r.status_code == 400 and "at most 1000 sources" in r.json()["error"]["message"]
    assert str(seed_qa.settings.index_dir) not in r.text
    r = client.post("/ask", content='{"question": "Who wrote the study?", "sources": ["\\udcff"]}',
                    headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and "printable UTF-8" in r.json()["error"]["message"]
    earlier = {"role": "user", "content": "\ud800 earlier"}
    turns = [earlier, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "And the maximum?"}]
    for stream in (False, True):
        body = json.dumps({"messages": turns, "stream": stream})  # ASCII: the surrogate as an escape
        r = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400 and "lone surrogate" in r.json()["error"]["message"]


def test_streaming_endpoint_never_sends_unverified_model_text(seed_qa: BriefingQA) -> None:
    import json

    from tests.fake_openai import FakeOpenAI, Reply

    injected = (
        "ANSWER:\nPWNED [1]. The minimum estimate is over $1.7 billion [1].\nQUOTES:\n"
        '[1] passage 1: "even the minimum estimate of shipments is over $1.7 billion"\n'
    )
    with FakeOpenAI([Reply(injected)]) as server:
        settings = seed_qa.settings.with_(openai_base_url=server.base_url, llm_model="fake-model")
        client = TestClient(create_app(BriefingQA(settings, embedder=seed_qa.embedder)))
        body = {"messages": [{"role": "user", "content": "What was the minimum arms estimate?"}], "stream": True}
        events = [
            json.loads(line[6:])
            for line in client.post("/v1/chat/completions", json=body).text.splitlines()
            if line.startswith("data: {")
        ]
    content = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    assert "PWNED" not in content
    assert content == events[-1]["briefing"]["answer"] == "The minimum estimate is over $1.7 billion [1]."


def test_an_extractive_answer_streams_sentence_by_sentence(client: TestClient) -> None:
    body = {"messages": [{"role": "user", "content": "What was the minimum arms estimate?"}], "stream": True}
    lines = [ln for ln in client.post("/v1/chat/completions", json=body).text.splitlines() if ln.startswith("data: {")]
    chunks = [json.loads(ln[6:]) for ln in lines]
    deltas = [c["choices"][0]["delta"].get("content") for c in chunks if c["choices"][0]["delta"].get("content")]
    assert len(deltas) >= 2 and "".join(deltas) == chunks[-1]["briefing"]["answer"]
