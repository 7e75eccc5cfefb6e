"""The `Answerer` contract, for every implementation: the extractive answerer and the LLM answerer
(against a scripted OpenAI-compatible server on 127.0.0.1 whose "model" quotes its first passage).

Whoever answers: every citation is the source text at its offsets, an abstention carries no
citation and says so, and the text's [n] marks number the citations 1…N in order.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import BriefingQA
from rag.llm.generate import LLMAnswerer
from rag.query.answer import NOT_COVERED
from rag.query.answerer import ExtractiveAnswerer
from tests.fake_openai import FakeOpenAI, Reply

QUESTIONS = [
    "What was the minimum arms estimate?",
    "Who wrote the study?",
    "Why is Russia turning to North Korea?",
    "What is the capital of France?",
    "How many tanks did Iran send to Venezuela in 2025?",
]


def quoting_model(messages: list[dict[str, Any]]) -> str:
    """A model that answers with the first sentence of passage 1, quoted verbatim."""
    user = messages[-1]["content"]
    passage = html.unescape(re.search(r'<passage id="1"[^>]*>\n(.*?)\n</passage>', user, re.S).group(1))
    sentence = re.split(r"(?<=[.!?])\s", passage.strip(), maxsplit=1)[0].rstrip(".")
    return f'ANSWER:\n{sentence} [1].\nQUOTES:\n[1] passage 1: "{sentence}"\n'


@pytest.fixture(params=["extractive", "llm"])
def qa(request: pytest.FixtureRequest, seed_qa: BriefingQA) -> Iterator[BriefingQA]:
    if request.param == "extractive":
        assert isinstance(seed_qa.answerer, ExtractiveAnswerer)
        yield seed_qa
        return
    with FakeOpenAI([Reply(quoting_model)]) as server:
        settings = seed_qa.settings.with_(openai_base_url=server.base_url, llm_model="fake-model")
        qa = BriefingQA(settings, embedder=seed_qa.embedder)
        assert isinstance(qa.answerer, LLMAnswerer) and qa.answerer.name == "fake-model"
        yield qa


@pytest.mark.parametrize("question", QUESTIONS)
def test_answer_contract(qa: BriefingQA, question: str) -> None:
    answer = qa.ask(question)
    for c in answer.citations:
        assert open(c.source, encoding="utf-8").read()[c.start : c.end] == c.quote  # noqa: SIM115 - the documented contract
    if answer.abstained:
        assert answer.citations == () and answer.text == NOT_COVERED
        return
    marks = [int(m) for m in re.findall(r"\[(\d+)\]", answer.text)]
    assert marks and list(dict.fromkeys(marks)) == list(range(1, len(answer.citations) + 1))


def test_both_answerers_abstain_on_what_the_corpus_lacks(qa: BriefingQA) -> None:
    assert qa.ask("What is the capital of France?").abstained
    lacking = qa.ask("How many tanks did Iran send to Venezuela in 2025?")
    assert lacking.abstained and "Iran" in lacking.note


def test_the_llm_answerer_writes_the_answer_when_it_can(qa: BriefingQA) -> None:
    answer = qa.ask("What was the minimum arms estimate?")
    expected = "fake-model" if isinstance(qa.answerer, LLMAnswerer) else "extractive"
    assert answer.answered_by == expected and answer.citations


def test_the_stream_holds_the_same_answer(qa: BriefingQA) -> None:
    stream = qa.ask_stream("Who wrote the study?")
    text = "".join(stream)
    assert text == stream.answer.text and stream.answer.citations
    assert Path(stream.answer.citations[0].source).exists()
