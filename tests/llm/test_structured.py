"""Structured model answers: provider profiles, the JSON reply read as it streams, sentences
verified one by one, and the text format when an endpoint refuses structured output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest

from rag import Answer, BriefingQA, Settings
from rag.llm.profiles import CHOICES, PROFILES, from_owners, from_url, named
from rag.llm.structured import ANSWER_SCHEMA, Reading, Unreadable
from rag.query.answer import NOT_COVERED
from tests.fake_openai import FakeOpenAI, Reply

Q = "What was the minimum arms estimate?"
MIN = {"quotes": [{"passage": 1, "quote": "even the minimum estimate of shipments is over $1.7 billion"}],
       "text": "The minimum estimate of shipments is over $1.7 billion."}  # fmt: skip
MAX = {"quotes": [{"passage": 2, "quote": "North Korea is currently providing Russia with weapons worth up to $5.5 billion"}],
       "text": "North Korea provides Russia weapons worth up to $5.5 billion."}  # fmt: skip
INVENTED = {"quotes": [{"passage": 1, "quote": "shipments reached nine trillion dollars in 2023"}],
            "text": "Shipments reached nine trillion dollars in 2023."}  # fmt: skip


def reply(*sentences: dict[str, Any]) -> str:
    return json.dumps({"sentences": list(sentences)})


def qa_for(seed_qa: BriefingQA, server: FakeOpenAI, provider: str = "auto", **changes: Any) -> BriefingQA:
    settings = seed_qa.settings.with_(
        openai_base_url=server.base_url, llm_model="fake-model", llm_provider=provider, **changes
    )
    return BriefingQA(settings, embedder=seed_qa.embedder)


def assert_exact(answer: Answer) -> None:
    for c in answer.citations:
        assert Path(c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote


# the reply, read incrementally -------------------------------------------------------------
def test_a_sentence_is_handed_out_once_the_next_one_begins() -> None:
    text = reply(MIN, MAX)
    reading = Reading()
    seen: list[tuple[int, str]] = []
    for i, ch in enumerate(text):
        seen += [(i, s.text) for s in reading.feed(ch)]
    seen += [(len(text), s.text) for s in reading.close()]
    assert [t for _, t in seen] == [MIN["text"], MAX["text"]]
    assert seen[0][0] < text.index(MAX["text"])  # the first came before the second was written


def test_a_reply_cut_off_keeps_the_sentences_it_finished() -> None:
    text = reply(MIN, MAX)
    cut = text[: text.index(MAX["text"]) + 10]  # the token limit hit inside the second sentence
    reading = Reading()
    got = reading.feed(cut) + reading.close()
    assert [s.text for s in got] == [MIN["text"]]


@pytest.mark.parametrize("text", ["", "I think about $2 billion.", '["a", "b"]', '{"answer": "x"}'])
def test_a_reply_that_is_not_the_object_asked_for_is_unreadable(text: str) -> None:
    reading = Reading()
    reading.feed(text)
    with pytest.raises(Unreadable):
        reading.close()


def test_a_sentence_object_of_the_wrong_shape_is_set_aside() -> None:
    reading = Reading()
    reading.feed(json.dumps({"sentences": [{"quotes": "none"}, MIN]}))
    assert [s.text for s in reading.close()] == [MIN["text"]]
    assert len(reading.rejected) == 1


# profiles -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "profile"),
    [
        (None, "openai"),
        ("https://api.openai.com/v1", "openai"),
        ("http://127.0.0.1:11434/v1", "ollama"),
        ("http://ollama.internal:8080/v1", "ollama"),
        ("http://127.0.0.1:8000/v1", None),  # vLLM, llama.cpp or anything else: ask the endpoint
    ],
)
def test_the_base_url_names_a_profile_when_it_can(url: str | None, profile: str | None) -> None:
    found = from_url(url)
    assert (found.name if found else None) == profile


@pytest.mark.parametrize(
    ("owners", "profile"),
    [
        (["vllm"], "vllm"),
        (["llamacpp"], "llamacpp"),
        (["me"], "llamacpp"),
        (["library"], "ollama"),
        (["acme"], "generic"),
        ([], "generic"),
    ],
)
def test_the_model_listing_names_a_profile(owners: list[str], profile: str) -> None:
    assert from_owners(owners).name == profile


def test_each_mechanism_asks_in_its_own_way() -> None:
    openai = PROFILES["openai"].request(ANSWER_SCHEMA, "answer")["response_format"]
    assert openai["type"] == "json_schema" and openai["json_schema"]["strict"] is True
    assert "maxLength" not in json.dumps(openai)  # strict mode refuses it
    assert "maxLength" in json.dumps(PROFILES["llamacpp"].request(ANSWER_SCHEMA, "answer"))
    llamacpp = PROFILES["llamacpp"].request(ANSWER_SCHEMA, "answer")["response_format"]
    assert llamacpp["type"] == "json_object" and llamacpp["schema"]["required"] == ["sentences"]
    assert PROFILES["vllm"].request(ANSWER_SCHEMA, "answer")["extra_body"]["guided_json"] == ANSWER_SCHEMA
    assert PROFILES["text"].request(ANSWER_SCHEMA, "answer") == {}


def test_the_setting_offers_every_profile() -> None:
    field = Settings.model_fields["llm_provider"].annotation
    assert set(get_args(field)) == set(CHOICES)
    assert named("auto") is None and named("vllm") is PROFILES["vllm"]
    from rag import ConfigError

    with pytest.raises(ConfigError, match="BRIEFING_LLM_PROVIDER"):
        Settings.from_env({"BRIEFING_LLM_PROVIDER": "gpt"})


@pytest.mark.parametrize(
    ("owner", "key"), [("me", "response_format"), ("vllm", "guided_json"), (None, "response_format")]
)
def test_the_profile_is_detected_once_and_shapes_every_request(
    seed_qa: BriefingQA, owner: str | None, key: str
) -> None:
    with FakeOpenAI([Reply(reply(MIN))], owned_by=owner) as server:
        qa = qa_for(seed_qa, server)
        first, second = qa.ask(Q), qa.ask(Q)
        assert server.listings == (1 if owner else 2)  # a failed look is not remembered
        assert all(key in body for body in server.requests)
        assert "JSON object" in server.requests[0]["messages"][0]["content"]
    assert first.text == second.text == "The minimum estimate of shipments is over $1.7 billion [1]."
    assert first.generation and first.generation.parsed and first.generation.kept == 1


# answers ------------------------------------------------------------------------------------
def test_a_structured_answer_is_verified_and_cited_exactly(seed_qa: BriefingQA) -> None:
    with FakeOpenAI([Reply(reply(MIN, MAX))]) as server:
        answer = qa_for(seed_qa, server, "llamacpp").ask(Q)
    assert answer.answered_by == "fake-model" and not answer.note
    assert answer.text == (
        "The minimum estimate of shipments is over $1.7 billion [1]. "
        "North Korea provides Russia weapons worth up to $5.5 billion [2]."
    )
    assert_exact(answer)
    g = answer.generation
    assert g is not None and (g.mechanism, g.parsed, g.sentences, g.kept, g.quotes, g.found) == (
        "json_object",
        True,
        2,
        2,
        2,
        2,
    )


def test_an_invented_quote_drops_only_its_sentence(seed_qa: BriefingQA) -> None:
    with FakeOpenAI([Reply(reply(INVENTED, MAX))]) as server:
        answer = qa_for(seed_qa, server, "llamacpp").ask(Q)
    assert answer.text == "North Korea provides Russia weapons worth up to $5.5 billion [1]."
    assert answer.unsupported_sentences == (INVENTED["text"],)
    assert answer.generation and answer.generation.found == 1
    assert_exact(answer)


def test_a_true_quote_under_a_false_sentence_is_not_enough(seed_qa: BriefingQA) -> None:
    wrong = dict(MIN, text="The minimum estimate of shipments is over $9 billion.")
    with FakeOpenAI([Reply(reply(wrong))]) as server:
        answer = qa_for(seed_qa, server, "llamacpp").ask(Q)
    assert answer.answered_by == "extractive" and "None of the language model's sentences" in answer.note
    assert answer.unsupported_sentences == (wrong["text"],) and "$9 billion" not in answer.text


def test_an_empty_sentence_list_is_an_abstention(seed_qa: BriefingQA) -> None:
    with FakeOpenAI([Reply(reply())]) as server:
        answer = qa_for(seed_qa, server, "llamacpp").ask("What did Kim Jong Un say about the study?")
    assert answer.abstained and answer.text == NOT_COVERED and answer.citations == ()
    assert answer.answered_by == "fake-model" and answer.generation and answer.generation.abstained


def test_a_reply_cut_off_by_the_token_limit_keeps_its_first_sentence(seed_qa: BriefingQA) -> None:
    text = reply(MIN, MAX)
    with FakeOpenAI([Reply(text[: text.index(MAX["text"])])]) as server:
        answer = qa_for(seed_qa, server, "llamacpp").ask(Q)
    assert answer.text == "The minimum estimate of shipments is over $1.7 billion [1]."
    assert_exact(answer)


def test_an_endpoint_that_refuses_structured_output_gets_the_text_format(seed_qa: BriefingQA) -> None:
    text = 'ANSWER:\nThe minimum estimate of shipments is over $1.7 billion [1].\nQUOTES:\n[1] passage 1: "even the minimum estimate of shipments is over $1.7 billion"'
    with FakeOpenAI([Reply(text)], refuse_structured=True) as server:
        qa = qa_for(seed_qa, server, "generic")
        first, second = qa.ask(Q), qa.ask(Q)
        asked = ["response_format" in body for body in server.requests]
    assert asked == [True, False, False]  # refused once, then the text format from then on
    assert first.text == second.text == "The minimum estimate of shipments is over $1.7 billion [1]."
    assert first.generation and first.generation.mechanism == "text"


def test_a_structured_request_answered_in_text_is_still_read(seed_qa: BriefingQA) -> None:
    text = 'ANSWER:\nThe minimum estimate of shipments is over $1.7 billion [1].\nQUOTES:\n[1] passage 1: "even the minimum estimate of shipments is over $1.7 billion"'
    with FakeOpenAI([Reply(text)]) as server:
        answer = qa_for(seed_qa, server, "openai").ask(Q)
        assert server.requests[0]["response_format"]["type"] == "json_schema"
    assert answer.text == "The minimum estimate of shipments is over $1.7 billion [1]."


def test_streaming_sends_each_sentence_as_soon_as_it_is_verified(seed_qa: BriefingQA) -> None:
    text = reply(MIN, MAX)
    with FakeOpenAI([Reply(text, pace=0.005)]) as server:
        stream = qa_for(seed_qa, server, "llamacpp").ask_stream(Q)
        first = next(stream)
        sent_then = server.pieces_sent
        rest = list(stream)
        total = server.pieces_sent
    assert first == "The minimum estimate of shipments is over $1.7 billion [1]."
    assert sent_then < total  # it arrived while the model was still writing the second sentence
    assert first + "".join(rest) == stream.answer.text and len(rest) == 1


def test_a_streamed_reply_cut_off_keeps_its_verified_sentence(seed_qa: BriefingQA) -> None:
    text = reply(MIN, MAX)
    with FakeOpenAI([Reply(text[: text.index(MAX["text"])])]) as server:
        stream = qa_for(seed_qa, server, "llamacpp").ask_stream(Q)
        deltas = list(stream)
        answer = stream.answer
    assert deltas == ["The minimum estimate of shipments is over $1.7 billion [1]."] and answer.text == deltas[0]
    assert_exact(answer)


def test_follow_ups_are_condensed_through_the_structured_path(seed_qa: BriefingQA) -> None:
    def model(messages: list[dict[str, Any]]) -> str:
        if messages[0]["content"].startswith("Rewrite the last user question"):
            return json.dumps({"question": "What was the maximum estimate of North Korean arms shipments?"})
        return reply(MAX)

    with FakeOpenAI([Reply(model)]) as server:
        chat = qa_for(seed_qa, server, "llamacpp").chat()
        chat.ask("What was the minimum estimate of arms shipments?")
        answer = chat.ask("And the maximum?")
        condense = [b for b in server.requests if b["messages"][0]["content"].startswith("Rewrite")]
    assert answer.standalone_question == "What was the maximum estimate of North Korean arms shipments?"
    assert condense and condense[0]["response_format"]["schema"]["required"] == ["question"]
    assert "$5.5 billion" in answer.text


def test_raw_newlines_inside_strings_do_not_make_a_reply_unreadable() -> None:
    """A grammar-constrained model writes raw newlines inside JSON strings; strict JSON refuses them."""
    text = reply(MIN).replace("over $1.7", "over\n$1.7")
    assert "\n" in text
    reading = Reading()
    got = reading.feed(text) + reading.close()
    assert [s.quotes[0].quote for s in got] == ["even the minimum estimate of shipments is over $1.7 billion"]


@pytest.mark.parametrize("empty", ["{{", "...", "[1]", "The."])
def test_a_sentence_that_says_nothing_is_dropped_even_with_a_real_quote(seed_qa: BriefingQA, empty: str) -> None:
    """Seen with SmolLM2: a sentence "{{" citing a real quote passed the support test vacuously."""
    with FakeOpenAI([Reply(reply(dict(MIN, text=empty), MAX))]) as server:
        answer = qa_for(seed_qa, server, "llamacpp").ask(Q)
    assert answer.text == "North Korea provides Russia weapons worth up to $5.5 billion [1]."
