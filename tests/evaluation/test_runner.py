"""The eval set and its metrics: gold quotes real, metrics defined as documented, the CLI gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rag import Answer, Citation, InputError
from rag.evaluation.runner import Row, fact_found, failures, lexical_judge, llm_judge, metrics, score, statements
from rag.evaluation.sets import Item, load_set
from rag.query.retrieve import Terms
from rag.query.verify import supports
from tests.conftest import ROOT

SET = ROOT / "eval" / "seeds.jsonl"


def test_the_seed_set_meets_its_brief_and_every_gold_quote_is_in_its_source() -> None:
    s = load_set(SET)
    single = [i for i in s.items if not i.conversation]
    assert sum(i.answerable for i in single) >= 40
    assert sum(not i.answerable for i in single) >= 10
    assert len({i.conversation for i in s.items if i.conversation}) >= 8
    assert {"number", "name", "date", "reason", "comparison", "both", "differ"} <= {i.category for i in single}
    for item in s.items:
        for g in item.quotes:
            assert g.quote in (ROOT / g.source).read_text(encoding="utf-8"), (item.id, g.quote)
    assert s.thresholds["quote_validity"] == 1.0
    # every answerable question in two more wordings, and near-topic questions the seeds cannot answer
    groups: dict[str, list[Item]] = {}
    for i in single:
        if i.group:
            groups.setdefault(i.group, []).append(i)
    assert all(len(g) == 3 for g in groups.values())
    assert {i.id for i in single if i.answerable and not i.group} == set()
    assert sum(not i.answerable for i in single) >= 27
    assert all(len({i.question for i in g}) == 3 and len({i.facts for i in g}) == 1 for g in groups.values())


@pytest.mark.parametrize("path", sorted((ROOT / "eval").glob("news*.jsonl")), ids=lambda p: p.name)
def test_every_news_gold_quote_is_in_its_source_and_holds_its_facts(path: Path) -> None:
    """The news sets cite BBC articles in ../shared/news (never committed): each gold quote is in
    its article, and each fact (one of its spellings) is in the turn's quotes."""
    s = load_set(path)
    sources = {g.source for item in s.items for g in item.quotes}
    assert sources and all(src.startswith("../shared/news/bbc/") for src in sources)
    if not (ROOT / "../shared/news/bbc").is_dir():
        pytest.skip("no ../shared/news beside the project: the BBC articles the quotes are checked against")
    for item in s.items:
        quoted = " ".join(g.quote for g in item.quotes).lower()
        for g in item.quotes:
            assert g.quote in (ROOT / g.source).read_text(encoding="utf-8"), (item.id, g.quote)
        for fact in item.facts:
            assert any(f.lower() in quoted for f in fact), (item.id, fact)


def test_paraphrases_expand_into_items_of_one_group(tmp_path: Path) -> None:
    line = {"type": "single", "id": "q1", "question": "Who wrote it?", "facts": ["Ann"], "paraphrases": ["Whose work?"]}
    (tmp_path / "s.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    items = load_set(tmp_path / "s.jsonl").items
    assert [(i.id, i.question, i.group, i.facts) for i in items] == [
        ("q1", "Who wrote it?", "q1", (("Ann",),)),
        ("q1~1", "Whose work?", "q1", (("Ann",),)),
    ]


def test_paraphrase_consistency_and_conversations_right_by_hand() -> None:
    def row(id: str, group: str, abstained: bool, found: float, conversation: str = "") -> Row:
        item = Item(id, "name", "Q?", True, (("x",),), (), conversation=conversation, group=group)
        return Row(item, Answer(question="Q?", text="t", abstained=abstained), 0.01, facts_found=found)

    rows = [
        row("a", "a", False, 1.0), row("a~1", "a", False, 1.0),  # consistent
        row("b", "b", False, 1.0), row("b~1", "b", True, 0.0),  # one wording abstains
        row("c.1", "", False, 1.0, "c"), row("c.2", "", False, 0.5, "c"),  # a turn only half right
        row("d.1", "", False, 1.0, "d"), row("d.2", "", False, 1.0, "d"),
    ]  # fmt: skip
    values = metrics(rows)
    assert values["paraphrase_consistency"] == 0.5
    assert values["conversations_right"] == 0.5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"type": "single", "id": "a", "question": "Q?", "answerable": true}', "at least one fact"),
        ('{"type": "nope"}', "unknown type"),
        ("not json", "line 1"),
        ('{"type": "conversation", "id": "c", "turns": [{"question": "Q?", "facts": ["x"]}]}', "at least 2"),
    ],
)
def test_bad_sets_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(InputError, match=message):
        load_set(path)


def test_facts_are_normalised() -> None:
    assert fact_found(("20,000",), "more than 20000 soldiers")
    assert fact_found(("1.7 billion",), "Over $1.7 billion")
    assert fact_found(("Oct. 28", "October 28"), "released on October 28")
    assert not fact_found(("5.5 billion",), "$1.7 billion")


def test_support_test_needs_numbers_and_most_terms() -> None:
    terms = Terms()
    assert supports("Over $1.7 billion", "even the minimum estimate of shipments is over $1.7 billion", terms)
    assert not supports("Over $9 billion", "even the minimum estimate is over $1.7 billion", terms)
    assert not supports("Olena Guseinova wrote the study", "Ferries run every hour", terms)


def _row(text: str, quotes: list[str], answerable: bool = True, abstained: bool = False, judge: Any = None) -> Row:
    source = str(ROOT / "seeds" / "001_72b694fcf48b8cdc.txt")
    body = Path(source).read_text(encoding="utf-8")
    cites = tuple(Citation(source, "t", q, body.find(q), body.find(q) + len(q)) for q in quotes)
    item = Item("x", "number", "q?", answerable, (("1.7 billion",),), ())
    return score(Row(item, Answer("q?", text, cites, abstained=abstained), 0.01), judge or lexical_judge(), {})


def test_a_quoted_sentence_is_not_part_of_the_claim() -> None:
    """ "Short answer: <the quote itself> [1][2]": the claim judged is the short answer, which each
    citation supports on its own; a sentence that is nothing but a quote is judged as itself."""
    good = "But even the minimum estimate of shipments is over $1.7 billion, the study reads."
    row = _row(f"Over $1.7 billion: {good} [1][2]", [good, good])
    assert statements(row.answer) == [("Over $1.7 billion", [1, 2])]
    assert row.supported == [True] and row.relevant == [True, True]
    alone = _row(f"{good} [1]", [good])
    assert statements(alone.answer) == [(good, [1])]
    # the answer's own form: the lead with every citation that states it, then the quote, quoted
    shown = "“" + good.replace("'", "’") + "”"
    row = _row(f"Over $1.7 billion [1][2]. {shown} [1]", [good, good])
    assert statements(row.answer) == [("Over $1.7 billion", [1, 2]), (good, [1])]
    assert row.supported == [True, True]
    two = _row(
        "The sources differ: Over $1.7 billion [1]; up to $5.5 billion [2]. “A.B. said it, twice.” [1] “Other.” [2]",
        [good, good],
    )
    assert [marks for _, marks in statements(two.answer)] == [[1, 2], [1], [2]]


def test_alce_recall_and_precision_by_hand() -> None:
    """Two statements: the first cites a quote that supports it plus one that does not (irrelevant,
    since the first alone supports it); the second cites only an unrelated quote (unsupported)."""
    good = "But even the minimum estimate of shipments is over $1.7 billion, the study reads."
    other = "The risk of desertion and human resource constraints also stand in the way, according to the research."
    row = _row("The minimum estimate is over $1.7 billion [1][2]. Ferries are late [2].", [good, other])
    assert statements(row.answer) == [("The minimum estimate is over $1.7 billion", [1, 2]), ("Ferries are late", [2])]
    assert row.supported == [True, False]
    assert row.relevant == [True, False, True]
    assert row.quote_valid == [True, True] and row.facts_found == 1.0
    values = metrics(
        [row, _row("The briefing corpus does not cover this question.", [], answerable=False, abstained=True)]
    )
    assert values["citation_recall"] == 0.5 and values["citation_precision"] == pytest.approx(2 / 3)
    assert values["correct_abstention"] == 1.0 and values["false_abstention"] == 0.0


def test_failures_respect_direction() -> None:
    values = {"answer_accuracy": 0.7, "false_abstention": 0.2, "latency_p95_ms": 10.0}
    assert failures(values, {"answer_accuracy": 0.8, "false_abstention": 0.1, "latency_p95_ms": 50, "x": 1}) == [
        "answer_accuracy = 0.700 is below the threshold 0.8",
        "false_abstention = 0.200 is above the threshold 0.1",
        "x: not measured (threshold 1)",
    ]


def _briefing(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag.serve.cli", *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def test_cli_gate_passes_on_the_seeds_and_fails_on_impossible_thresholds(seeds: Path, tmp_path: Path) -> None:
    assert _briefing("ingest", "--quiet", str(seeds), cwd=tmp_path).returncode == 0
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "seeds.jsonl").write_text(SET.read_text(encoding="utf-8"), encoding="utf-8")
    ok = _briefing("eval", "--out", "out", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    report = json.loads((tmp_path / "out" / "eval-seeds.json").read_text())
    assert report["metrics"]["quote_validity"] == 1.0 and len(report["rows"]) >= 70
    assert "<svg" in (tmp_path / "out" / "eval-seeds.html").read_text()
    strict = SET.read_text(encoding="utf-8").splitlines()
    config = json.loads(strict[0]) | {"thresholds": {"answer_accuracy": 1.01}}
    (tmp_path / "strict.jsonl").write_text("\n".join([json.dumps(config), *strict[1:]]) + "\n")
    failed = _briefing("eval", "--set", "strict.jsonl", "--out", "out", cwd=tmp_path)
    assert failed.returncode == 1 and "FAILED: answer_accuracy" in failed.stdout


def test_squad_benchmark_on_a_small_sample(tmp_path: Path) -> None:
    squad = ROOT.parent / "shared" / "bench" / "squad-v2-dev-8articles.json"
    if not squad.is_file():
        pytest.skip(f"the SQuAD benchmark articles are not on this machine ({squad})")
    out = _briefing("eval", "--squad", str(squad), "--sample", "30", "--out", "out", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    figures = json.loads((tmp_path / "out" / "squad.json").read_text())
    assert figures["questions"] == 30 and set(figures["retrieval"]) == {"hybrid", "dense", "bm25"}
    # 30 fixed questions (seed 0), the full pipeline: far above chance, and the figures agree
    assert figures["answerable"] > 0 and figures["short_answer_f1"] > 0.1
    assert figures["answer_in_any_quote"] >= figures["answer_in_first_quote"] > 0.3
    for name in ("hybrid", "dense", "bm25"):
        r = figures["retrieval"][name]
        assert r["gold_paragraph_top5"] >= r["gold_paragraph_top1"] > 0.3


@pytest.mark.parametrize("provider", ["llamacpp", "text"])
def test_llm_judge_through_a_local_openai_server(seed_qa: Any, provider: str) -> None:
    from rag import BriefingQA
    from tests.fake_openai import FakeOpenAI, Reply

    def model(messages: list[dict]) -> str:
        user = messages[-1]["content"]
        claim, evidence = user.split("\n\nEvidence: ")
        yes = "1.7 billion" in claim and "1.7 billion" in evidence
        if "JSON" in messages[0]["content"]:
            return json.dumps({"supported": yes})
        return "YES" if yes else "NO"

    good = "But even the minimum estimate of shipments is over $1.7 billion, the study reads."
    with FakeOpenAI([Reply(model)]) as server:
        settings = seed_qa.settings.with_(openai_base_url=server.base_url, llm_model="judge", llm_provider=provider)
        judge = llm_judge(BriefingQA(settings, embedder=seed_qa.embedder).endpoint, settings)
        row = _row("The minimum estimate is over $1.7 billion [1]. Ferries are late [1].", [good], judge=judge)
        assert server.requests[0]["messages"][0]["content"].startswith("You check citations")
        assert ("response_format" in server.requests[0]) == (provider == "llamacpp")
    assert row.supported == [True, False]


def _quoting_model(messages: list[dict]) -> str:
    """A model that answers with the first sentence of passage 1, quoted exactly."""
    import html
    import re

    user = messages[-1]["content"]
    passage = re.search(r'<passage id="1"[^>]*>\n(.*?)\n</passage>', user, re.S)
    first = re.split(r"(?<=[.!?])\s", html.unescape(passage.group(1)).strip())[0] if passage else ""
    return json.dumps({"sentences": [{"quotes": [{"passage": 1, "quote": first}], "text": first}]})


def test_eval_llm_prints_the_model_figures_next_to_the_extractive_ones(seeds: Path, tmp_path: Path) -> None:
    from tests.fake_openai import FakeOpenAI, Reply

    assert _briefing("ingest", "--quiet", str(seeds), cwd=tmp_path).returncode == 0
    lines = SET.read_text(encoding="utf-8").splitlines()
    singles = [line for line in lines[1:] if '"type": "single"' in line][:4]
    (tmp_path / "small.jsonl").write_text("\n".join([lines[0], *singles]) + "\n", encoding="utf-8")
    with FakeOpenAI([Reply(_quoting_model)], owned_by="llamacpp") as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "BRIEFING_LLM_MODEL": "fake-model"}
        out = subprocess.run(
            [sys.executable, "-m", "rag.serve.cli", "eval", "--llm", "--set", "small.jsonl", "--out", "out"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env,
        )  # fmt: skip
        assert all(b["response_format"]["type"] == "json_object" for b in server.requests)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "extractive" in out.stdout and "parse rate" in out.stdout
    report = json.loads((tmp_path / "out" / "eval-seeds-llm.json").read_text())
    m = report["metrics"]
    assert m["parse_rate"] == 1.0 and m["quote_validity"] == 1.0 and m["model_asked"] > 0
    assert m["sentences_kept"] == m["quotes_found"] > 0  # a sentence that is its own quote stands iff it is found
    assert report["thresholds"] == {"parse_rate": 0.95, "quote_validity": 1.0}
    assert all(r["generation"]["mechanism"] == "json_object" for r in report["rows"] if "generation" in r)


def test_quote_marks_and_units_are_checked() -> None:
    from rag.evaluation.runner import balanced, units_kept

    assert balanced("£10.3m [1]. “The council spent £10.3m, ‘a record’, it said.” [1]")
    assert not balanced('His manifesto will be "unremittingly New Labour [1].')
    quote = "The council spent £10.3m on the bridge."
    cite = (Citation("a.txt", "t", quote, 0, len(quote)),)
    assert units_kept(Answer("q?", "£10.3m [1]. “…” [1]", cite))
    assert not units_kept(Answer("q?", "10.3 [1]. “…” [1]", cite))
    up = "Sales were up 1% in 2004."
    assert units_kept(Answer("q?", "Paxil and Wellbutrin [1]. “…” [1]", (Citation("a.txt", "t", up, 0, len(up)),)))
