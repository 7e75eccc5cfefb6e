"""The Gradio UI: upload safety, the named API endpoint via gradio_client, and a real browser."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import ui  # noqa: E402 - the project root is on sys.path (tests is a package)
from rag import BriefingQA, RagError, Settings
from tests.conftest import ROOT, SEEDS
from tests.servers import serve

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTICLE = (
    "Ferry services resume across the Channel\n\n"
    "by Jane Roe March 5, 2024\n\n"
    "Ferries between Dover and Calais now run every 45 minutes, the port authority said on Tuesday. "
    "The service had been suspended for three days because of the storm.\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("site")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    qa = BriefingQA(Settings(index_dir=root / "index"))
    qa.ingest([corpus])
    with serve(ui.serve_app(qa, corpus)) as url:
        yield url, corpus


@pytest.mark.parametrize(
    ("name", "expected"),
    [("report.txt", "report.txt"), ("../../etc/passwd.txt", "passwd.txt"), ("..\\..\\win.md", "win.md"),
     ("we ird name!.HTML", "we_ird_name_.html"), (".hidden.txt", "hidden.txt")],
)  # fmt: skip
def test_safe_name_keeps_files_inside_the_corpus(name: str, expected: str) -> None:
    assert ui.safe_name(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "notes", "x.pdf"])
def test_safe_name_refuses_other_types(name: str) -> None:
    with pytest.raises(RagError, match="only"):
        ui.safe_name(name)


def test_store_upload_checks_size_and_never_overwrites_other_content(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    first = tmp_path / "up" / "a.txt"
    first.parent.mkdir()
    first.write_text("one")
    assert ui.store_upload(str(first), corpus) == corpus / "a.txt"
    assert ui.store_upload(str(first), corpus) == corpus / "a.txt"  # same bytes: same file
    first.write_text("two")
    assert ui.store_upload(str(first), corpus) == corpus / "a-2.txt"
    big = tmp_path / "up" / "big.txt"
    big.write_bytes(b"x" * (ui.MAX_UPLOAD_BYTES + 1))
    with pytest.raises(RagError, match="limit"):
        ui.store_upload(str(big), corpus)


def test_gradio_client_named_endpoint(site: tuple[str, Path]) -> None:
    from gradio_client import Client

    url, _ = site
    result = Client(url + "/", verbose=False).predict("What was the minimum arms estimate?", 6, api_name="/ask")
    assert result["abstained"] is False and "$1.7 billion" in result["answer"]
    assert result["citations"][0]["quote"]


def test_browser_chat_citation_upload_and_ask(site: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, corpus = site
    shots = ROOT / "reports" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    upload = tmp_path / "ferries.txt"
    upload.write_text(ARTICLE, encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 950})
        page.goto(url + "/", wait_until="load")

        def ask(question: str) -> None:
            page.locator("#question textarea").fill(question)
            page.locator("#ask").click()

        ask("What was the minimum arms estimate?")
        quote = page.locator("#chat mark.bq-quote").first
        quote.wait_for(state="attached", timeout=60_000)
        expect(page.locator("#chat .bq-answer").last).to_contain_text("$1.7 billion")
        page.locator("#chat details.bq-citation summary").first.click()
        expect(quote).to_be_visible()
        expect(page.locator("#chat details.bq-citation .bq-meta").first).to_contain_text("000_")
        page.screenshot(path=str(shots / "chat-citation.png"))

        ask("What is the capital of France?")
        expect(page.locator("#chat .bq-abstained").last).to_contain_text("does not cover", timeout=60_000)

        page.locator("#upload input[type=file]").set_input_files(str(upload))
        page.locator("#add").click()
        expect(page.locator("#ingest-report")).to_contain_text("1 added", timeout=120_000)
        expect(page.locator("#sources")).to_contain_text("Ferry services resume across the Channel")
        assert (corpus / "ferries.txt").read_text(encoding="utf-8") == ARTICLE

        ask("How often do ferries between Dover and Calais run?")
        expect(page.locator("#chat .bq-answer").last).to_contain_text("every 45 minutes", timeout=60_000)
        expect(page.locator("#chat details.bq-citation").last).to_contain_text("Ferry services resume")
        page.screenshot(path=str(shots / "chat-upload.png"))

        page.get_by_role("tab", name="Settings").click()
        page.get_by_label("From date (YYYY-MM-DD)").fill("yesterday")
        ask("What was the minimum arms estimate?")
        error = page.locator("#chat .bq-abstained").last
        expect(error).to_contain_text("From must be a date like 2024-10-28", timeout=60_000)
        assert "Traceback" not in page.locator("#chat").inner_text()
        browser.close()
