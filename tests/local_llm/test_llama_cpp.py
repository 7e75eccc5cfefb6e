"""The LLM path against a real model: llama.cpp's OpenAI-compatible server with SmolLM2-135M
(`make test-llm`). A model this small answers poorly; these tests check the mechanism — the
provider profile is detected, replies parse, every quote that reaches a user is the source text,
invented ones are dropped, a stopped server falls back, streaming works — not its wisdom."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Answer, BriefingQA
from rag.evaluation.runner import llm_judge
from rag.types import Budget
from tests.local_llm.server import ENV, MODEL, llama_server

pytestmark = pytest.mark.local_llm

QUESTIONS = (
    "What was the minimum estimate of North Korean arms shipments to Russia?",
    "Who wrote the study about North Korean arms sales?",
    "How many high-level meetings per month have there been between Russia and North Korea since July 2023?",
)


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llama") / "server.log"


@pytest.fixture(scope="module")
def base_url(server_log: Path) -> Iterator[str]:
    with llama_server(log=server_log) as url:
        yield url


def server_errors(log: Path) -> str:
    """The server's own account of the errors it answered (llama-cpp-python prints each 500's
    exception and traceback), for a failed assertion or a warning."""
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return text[text.find("Exception:") :][-4000:] if "Exception:" in text else "(no exception in the server's log)"


def model_qa(seed_qa: BriefingQA, url: str, **changes: object) -> BriefingQA:
    settings = seed_qa.settings.with_(
        openai_base_url=url, llm_model=MODEL, top_k=int(ENV["BRIEFING_TOP_K"]),
        llm_budget=float(ENV["BRIEFING_LLM_BUDGET"]), llm_timeout=float(ENV["BRIEFING_LLM_TIMEOUT"]), **changes,
    )  # fmt: skip
    return BriefingQA(settings, embedder=seed_qa.embedder)


def assert_grounded(answer: Answer) -> None:
    """Every citation is its source's text at its offsets; nothing unverified is in the text."""
    for c in answer.citations:
        assert Path(c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote
    for sentence in answer.unsupported_sentences:
        assert sentence not in answer.text


def test_replies_parse_and_only_verified_quotes_reach_the_user(
    seed_qa: BriefingQA, base_url: str, server_log: Path
) -> None:
    """Every reply that comes back parses. A question the server answers with an error (CI saw
    one 500 from llama-cpp-python's own validation, never reproduced here in 40 runs) gets the
    extractive answer with a note saying so; that is reported as a warning with the server's
    traceback, and at least one reply must still have come back."""
    qa = model_qa(seed_qa, base_url)
    answers = [qa.ask(q) for q in QUESTIONS]
    assert qa.endpoint is not None and qa.endpoint.profile(Budget.start(5)).name == "llamacpp"
    replied = [a for a in answers if a.generation is not None]
    failed = [a for a in answers if a.generation is None]
    assert replied, "\n".join([*(a.note for a in answers), server_errors(server_log)])
    assert all(a.generation.parsed and a.generation.mechanism == "json_object" for a in replied if a.generation)
    for a in failed:  # the server errored: the fallback, said, and nothing else
        assert a.answered_by == "extractive" and "did not answer" in a.note, a.note
    if failed:
        warnings.warn(
            f"the model server failed {len(failed)} of {len(answers)} questions: {server_errors(server_log)}",
            stacklevel=1,
        )
    for a in answers:
        assert_grounded(a)
        if a.answered_by == MODEL and not a.abstained:
            assert a.citations and a.generation and a.generation.kept >= 1
        else:  # every sentence dropped, or the model abstained: the extractive answer or an abstention
            assert a.answered_by == "extractive" or a.abstained


def test_invented_quotes_are_dropped(seed_qa: BriefingQA, base_url: str) -> None:
    """SmolLM2 retypes and splices passages; whatever it retyped is not found and never shown."""
    qa = model_qa(seed_qa, base_url)
    answers = [qa.ask(q) for q in QUESTIONS]
    quotes = sum(a.generation.quotes for a in answers if a.generation)
    found = sum(a.generation.found for a in answers if a.generation)
    assert quotes > 0 and found <= quotes
    shown = [c for a in answers for c in a.citations]
    assert all(Path(c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote for c in shown)


def test_streaming_through_chat_completions(seed_qa: BriefingQA, base_url: str) -> None:
    stream = model_qa(seed_qa, base_url).ask_stream(QUESTIONS[0])
    deltas = list(stream)
    answer = stream.answer
    assert "".join(deltas) == answer.text and answer.text
    assert answer.generation is not None and answer.generation.parsed
    assert_grounded(answer)


def test_a_follow_up_is_condensed_by_the_model(seed_qa: BriefingQA, base_url: str) -> None:
    chat = model_qa(seed_qa, base_url).chat()
    chat.ask(QUESTIONS[0])
    answer = chat.ask("And the maximum?")
    assert answer.standalone_question.strip()  # the model's rewrite, or the rules' if it was unusable
    assert_grounded(answer)


def test_the_judge_gives_a_verdict(seed_qa: BriefingQA, base_url: str) -> None:
    qa = model_qa(seed_qa, base_url)
    judge = llm_judge(qa.endpoint, qa.settings)
    verdict = judge(
        "The minimum estimate is over $1.7 billion.", "even the minimum estimate of shipments is over $1.7 billion"
    )
    assert isinstance(verdict, bool)
    assert qa.endpoint is not None and qa.endpoint.profile(Budget.start(5)).structured  # the schema was accepted


def test_the_text_format_is_not_followed_and_falls_back(seed_qa: BriefingQA, base_url: str) -> None:
    """Asked for the plain ANSWER:/QUOTES: format, this model does not comply (measured 0 of 6):
    the extractive answer stands in, with a note, and nothing breaks."""
    answer = model_qa(seed_qa, base_url, llm_provider="text").ask(QUESTIONS[0])
    assert_grounded(answer)
    assert answer.answered_by == MODEL or "extractive answer" in answer.note


def test_a_stopped_server_falls_back_to_the_extractive_answer(seed_qa: BriefingQA) -> None:
    with llama_server() as url:
        qa = model_qa(seed_qa, url, llm_retries=0)
        assert qa.ask(QUESTIONS[0]).generation is not None  # it was up
    answer = qa.ask(QUESTIONS[0])  # and now it is gone
    assert answer.answered_by == "extractive" and "did not answer" in answer.note
    assert "$1.7 billion" in answer.text
    assert_grounded(answer)
