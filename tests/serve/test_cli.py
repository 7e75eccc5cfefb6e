"""The `briefing` command: JSON contract, clear errors with a non-zero exit and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def briefing(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rag.serve.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def indexed(seeds: Path) -> Path:
    done = briefing("ingest", "--quiet", str(seeds))
    assert done.returncode == 0, done.stderr
    assert "2 added" in done.stdout
    return seeds


def test_ingest_ask_json_and_offsets(indexed: Path) -> None:
    again = briefing("ingest", "--quiet", str(indexed))
    assert "0 added, 0 updated, 2 unchanged" in again.stdout
    out = briefing("ask", "--json", "What was the minimum arms estimate?")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["abstained"] is False and "$1.7 billion" in data["answer"]
    for c in data["citations"]:
        assert not Path(c["source"]).is_absolute()  # relative paths stay relative
        assert Path(c["source"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["quote"]
    out = briefing("ask", "--json", "What did China say about the deal?")
    assert json.loads(out.stdout) == {
        "answer": "The briefing corpus does not cover this question.",
        "abstained": True,
        "citations": [],
        "note": "The corpus never mentions China.",  # extra keys appear only when they carry something
    }


def test_sources_lists_articles_and_duplicates(indexed: Path) -> None:
    out = briefing("sources")
    assert out.returncode == 0
    assert "2024-10-28" in out.stdout and "duplicates:" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ask", "What happened?"), "index/ — run: briefing ingest seeds/"),
        (("--index", "elsewhere", "ask", "What happened?"), "run: briefing --index elsewhere ingest FOLDER"),
        (("ingest", "no/such/folder"), "No such file or folder"),
        (("ask", "--top-k", "0", "Hi?"), "--top-k must be a whole number from 1 to 50"),
        (("ask", "--top-k", "1000", "Hi?"), "--top-k must be a whole number from 1 to 50"),
        (
            ("ask", "--since", "2024-02-01", "--until", "2024-01-01", "Hi?"),
            "the start date 2024-02-01 is after the end date",
        ),
    ],
)
def test_errors_exit_2_without_traceback(args: tuple[str, ...], message: str) -> None:
    out = briefing(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("command", [("ingest",), ("ask", "Who?"), ("chat",)])
def test_a_corpus_folder_that_does_not_exist_is_an_error(command: tuple[str, ...]) -> None:
    out = briefing("--corpus", "no/such/folder", *command)
    assert out.returncode == 2 and "No such folder: no/such/folder (--corpus)" in out.stderr
    assert not Path(".indexes").exists()  # no index is made for it


def test_a_corpus_folder_without_its_index_says_what_to_run(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    out = briefing("--corpus", "mine", "chat")  # before the prompt, not at the first question
    assert out.returncode == 2 and "run: briefing --corpus mine ingest" in out.stderr and "you>" not in out.stdout
    assert str(tmp_path) in out.stderr  # where the folder's index is looked for


def test_source_filters_name_an_article_by_id_or_path(indexed: Path) -> None:
    first = sorted(indexed.glob("*.txt"))[0]
    question = ["ask", "--json", "What was the minimum arms estimate?"]
    for name in (str(first), str(first.resolve()), f"seeds-{first.stem}"):  # as ingested, another path, its id
        data = json.loads(briefing(*question, "--source", name).stdout)
        assert data["citations"] and {c["source"] for c in data["citations"]} == {str(first)}, name
    out = briefing(*question, "--source", "seeds/not-there.txt")
    assert out.returncode == 2 and "No indexed article is 'seeds/not-there.txt'" in out.stderr


def test_a_date_filter_that_leaves_nothing_says_so(indexed: Path) -> None:
    data = json.loads(briefing("ask", "--json", "--since", "2030-01-01", "What was the minimum arms estimate?").stdout)
    assert data["abstained"] and data["note"].startswith(
        "No indexed article passes the filters: dated on or after 2030"
    )


def test_output_to_a_closed_pipe_is_no_traceback(indexed: Path) -> None:
    command = f"{sys.executable} -m rag.serve.cli ask 'What was the minimum arms estimate?' | true"
    out = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in out.stderr and "BrokenPipeError" not in out.stderr


def test_bad_question_on_a_built_index(indexed: Path) -> None:
    out = briefing("ask", "   ")
    assert out.returncode == 2 and "The question is empty" in out.stderr and "Traceback" not in out.stderr


def test_chat_loop_follow_up_reset_and_quit(indexed: Path) -> None:
    script = "What was the minimum estimate of arms shipments?\nAnd the maximum?\n/sources\n/bogus\n/reset\n/quit\n"
    out = subprocess.run(
        [sys.executable, "-m", "rag.serve.cli", "chat", "--session", "cli-test"],
        input=script, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "(searched: What was the maximum estimate of arms shipments?)" in out.stdout
    assert "$5.5 billion" in out.stdout
    assert "2024-10-28" in out.stdout  # /sources
    assert "(conversation cleared)" in out.stdout
    assert "no command /bogus — the commands are /reset, /sources and /quit" in out.stdout
    assert "Traceback" not in out.stderr


def test_ingest_exits_3_with_the_reasons_when_nothing_could_be_ingested(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_text("")
    (bad / "latin.txt").write_bytes("Caf\xe9 au lait".encode("latin-1"))
    out = briefing("ingest", "--quiet", str(bad))
    assert out.returncode == 3
    assert "skipped" in out.stdout and "empty file" in out.stdout and "not UTF-8" in out.stdout
    assert "nothing was ingested" in out.stderr and "Traceback" not in out.stderr
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    out = briefing("ingest", "--quiet", str(nothing))
    assert out.returncode == 3 and "no .txt, .md or .html files" in out.stderr


def test_remove_and_sync_take_articles_out_of_the_index(indexed: Path) -> None:
    first, second = sorted(indexed.glob("*.txt"))
    ask = ["ask", "--json", "--offline", "What was the minimum arms estimate?"]
    out = briefing("remove", str(first))
    assert out.returncode == 0 and "removed seeds-000_" in out.stdout
    assert first.exists()  # the file stays; only the index forgets it
    assert all(c["source"] != str(first) for c in json.loads(briefing(*ask).stdout)["citations"])
    assert briefing("remove", str(first)).returncode == 3  # nothing left to remove
    second.unlink()
    again = briefing("ingest", "--quiet", "--sync", str(indexed))
    assert again.returncode == 0 and "1 added" in again.stdout and "1 removed" in again.stdout
    sources = briefing("sources").stdout
    assert "000_" in sources and "001_" not in sources
    assert all(c["source"] != str(second) for c in json.loads(briefing(*ask).stdout)["citations"])


def test_a_corpus_of_your_own_gets_an_index_of_its_own(seeds: Path, tmp_path: Path) -> None:
    from rag import BriefingQA
    from rag.config import corpus_index

    mine = tmp_path / "my articles"
    mine.mkdir()
    (mine / "ferries.txt").write_text(
        "Ferry services resume\n\nFerries between Dover and Calais now run every 45 minutes, the port said.\n",
        encoding="utf-8",
    )
    done = briefing("--corpus", str(mine), "ingest", "--quiet")  # no paths: the corpus folder
    assert done.returncode == 0 and "1 added" in done.stdout, done.stderr
    out = briefing("--corpus", str(mine), "ask", "--json", "How often do ferries between Dover and Calais run?")
    assert "45 minutes" in json.loads(out.stdout)["answer"]
    assert corpus_index(mine).parent == Path(".indexes") and (tmp_path / corpus_index(mine)).is_dir()
    assert not (tmp_path / "index").exists()  # the default index (and the eval's) is untouched
    assert corpus_index(mine) != corpus_index(seeds)
    qa = BriefingQA.for_corpus(mine)  # the Python equivalent: the same index, already up to date
    assert qa.settings.index_dir == corpus_index(mine) and [a.title for a in qa.articles()] == ["Ferry services resume"]
    assert briefing("ingest").returncode == 2  # nothing to ingest: says so
