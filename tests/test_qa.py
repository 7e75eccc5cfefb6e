"""`BriefingQA` shared by processes: a running server sees what `briefing ingest` writes, at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag import BriefingQA
from tests.conftest import ROOT, SEEDS
from tests.servers import ui_process

NEW_ARTICLE = (
    "Zebra census in Kenya\n\nby Amina Odhiambo June 3, 2024\n\n"
    "The national zebra census counted 4,321 Grevy's zebras this year, the wildlife service said.\n"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`python ui.py --api` on a fresh index of the seeds, as users run it; yields (url, env)."""
    shutil.copytree(SEEDS, tmp_path / "corpus")
    env = dict(os.environ, BRIEFING_INDEX_DIR=str(tmp_path / "index"), PYTHONPATH=str(ROOT))
    with ui_process(tmp_path, "--api", "--corpus", "corpus", env=env) as (url, _):
        yield url, env


def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "rag.serve.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _ask(url: str, question: str) -> dict:
    r = httpx.post(f"{url}/ask", json={"question": question, "offline": True}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_running_server_answers_from_what_another_process_ingests(
    server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = server
    assert "$1.7 billion" in _ask(url, "What was the minimum arms estimate?")["answer"]
    # another process (a cron job) adds an article and rewrites one the server has answered from
    (tmp_path / "corpus" / "zebras.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    changed = sorted((tmp_path / "corpus").glob("001_*.txt"))[0]
    changed.write_text(changed.read_text(encoding="utf-8").replace("$1.7 billion", "$2.9 billion"), encoding="utf-8")
    out = _cli(env, tmp_path, "ingest", "--quiet", "corpus")
    assert "1 added, 1 updated" in out

    zebras = _ask(url, "How many Grevy's zebras did the census count?")
    assert "4,321" in zebras["answer"] and zebras["citations"][0]["source"] == "corpus/zebras.txt"
    for question in ("What was the minimum arms estimate?", "What did the study estimate the shipments at?"):
        answer = _ask(url, question)  # retrieves the rewritten article: no stale ids, no HTTP 500
        for c in answer["citations"]:
            assert open(tmp_path / c["source"], encoding="utf-8").read()[c["start"] : c["end"]] == c["quote"]  # noqa: SIM115 - the documented contract, verbatim
    assert any(
        "2.9 billion" in c["quote"] for c in _ask(url, "What was the minimum estimate of shipments?")["citations"]
    )

    _cli(env, tmp_path, "remove", "corpus/zebras.txt")
    gone = _ask(url, "How many Grevy's zebras did the census count?")
    assert all(c["source"] != "corpus/zebras.txt" for c in gone["citations"])


def test_two_open_instances_survive_a_removal_by_another_process(tmp_path: Path) -> None:
    # Chroma keeps one vector index per process and folder, shared by every client open on it: a
    # chunk another process removed stays in it, without a record, until the last client closes
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zebras.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (corpus / "cheese.txt").write_text(
        "Cheese prices rise\n\nThe price of cheddar rose by 14 percent in March, the dairy board said.\n",
        encoding="utf-8",
    )
    env = dict(os.environ, BRIEFING_INDEX_DIR=str(tmp_path / "index"), PYTHONPATH=str(ROOT))
    _cli(env, tmp_path, "ingest", "--quiet", "corpus")
    first, second = BriefingQA.open(tmp_path / "index"), BriefingQA.open(tmp_path / "index")
    question = "How many Grevy's zebras did the census count?"
    assert "4,321" in first.ask(question).text
    (corpus / "zebras.txt").unlink()
    _cli(env, tmp_path, "ingest", "--quiet", "--sync", "corpus")
    for qa in (first, second, BriefingQA.open(tmp_path / "index")):
        answer = qa.ask(question)
        assert answer.abstained and not answer.citations


def test_example_questions_are_stable_grammatical_and_answered(seed_qa: BriefingQA) -> None:
    first, again = seed_qa.example_questions(), seed_qa.example_questions()
    assert first == again and 2 <= len(first) <= 4  # the same corpus, the same examples
    assert all(q.startswith(("What did ", "What happened in ")) for q in first)
    assert not any("Korean" in q for q in first)  # names of people, organisations and places, not adjectives
    texts = " ".join(seed_qa.article_text(a.id) for a in seed_qa.articles())
    for q in first:
        answer = seed_qa.ask(q, offline=True)
        name = q.removeprefix("What did ").removeprefix("What happened in ").removesuffix("?").removesuffix(" say")
        assert not answer.abstained and name.lower() in answer.citations[0].quote.lower()
        bare = name.removeprefix("the ")
        if texts.count(f"the {bare}") * 2 > texts.count(bare):  # named with its article, as the text does
            assert name == f"the {bare}", q


def test_answering_in_a_new_process_imports_neither_llama_index_nor_gradio(seed_qa: BriefingQA) -> None:
    """Cold start: a process that only answers never pays for llama-index's or gradio's import
    (llama-index writes the index; the question path reads Chroma directly)."""
    code = (
        "import sys; from rag import BriefingQA, Settings; "
        f"a = BriefingQA(Settings(index_dir={str(seed_qa.settings.index_dir)!r})).ask("
        "'What was the minimum arms estimate?', offline=True); "
        "print(a.abstained, sorted({m.split('.')[0] + '.' + m.split('.')[1] for m in sys.modules "
        "if m.startswith(('llama_index.', 'gradio.'))}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False []"
