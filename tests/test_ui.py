"""The Gradio UI: the file-read attack, the named API endpoint via gradio_client, shutdown, a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio.utils import get_upload_folder as gradio_upload_folder

import ui  # noqa: E402 - the project root is on sys.path (tests is a package)
from rag import BriefingQA, Settings
from tests.conftest import ROOT, SEEDS
from tests.servers import serve

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTICLE = (
    "Ferry services resume across the Channel\n\n"
    "by Jane Roe March 5, 2024\n\n"
    "Ferries between Dover and Calais now run every 45 minutes, the port authority said on Tuesday. "
    "The service had been suspended for three days because of the storm.\n\n"
    # Markdown in an article is text: no image fetched, no live link, its "[1]" no citation
    "Passengers should check ![the timetable](http://127.0.0.1:9/track.png) and "
    "[the port's page](http://example.invalid/ferries) before they travel [1].\n"
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


def _queue_call(url: str, elem_id: str, data: list[Any]) -> dict[str, Any]:
    """Call the UI event that writes to the component `elem_id` the way a crafted request would:
    straight through Gradio's HTTP queue API, no upload, no browser."""
    config = httpx.get(f"{url}/config").json()
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    event = next(  # the event a user triggers (page-load events take no inputs)
        d for d in config["dependencies"] if d["inputs"] and elem_id in [ids.get(o) for o in d["outputs"]]
    )
    session = uuid.uuid4().hex[:10]
    body = {"data": data, "fn_index": event["id"], "trigger_id": event["targets"][0][0],
            "session_hash": session, "event_data": None}  # fmt: skip
    assert httpx.post(f"{url}/gradio_api/queue/join", json=body).status_code == 200
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}, timeout=60) as s:
        for line in s.iter_lines():
            if line.startswith("data:") and (msg := json.loads(line[5:])).get("msg") == "process_completed":
                return msg
    raise AssertionError("the queue never completed the event")


def test_no_server_file_can_be_added_through_the_queue_api(site: tuple[str, Path], tmp_path: Path) -> None:
    url, corpus = site
    secret = tmp_path / "secret.txt"
    secret.write_text("Top secret: the launch code for the vault is 7741.\n", encoding="utf-8")
    before = sorted(p.name for p in corpus.iterdir())
    for path in (str(secret), f"{gradio_upload_folder()}/../{secret.relative_to('/')}"):
        forged = {"path": path, "orig_name": "secret.txt", "meta": {"_type": "gradio.FileData"}}
        reply = _queue_call(url, "ingest-report", [[forged]])
        assert reply["success"] is False and "not uploaded by a user" in json.dumps(reply), reply
    assert sorted(p.name for p in corpus.iterdir()) == before
    answer = httpx.post(f"{url}/ask", json={"question": "What is the launch code for the vault?"}).json()
    assert "7741" not in json.dumps(answer)


def test_no_server_file_can_be_smuggled_into_the_chat_history(site: tuple[str, Path], tmp_path: Path) -> None:
    """A forged chat history naming a server file would otherwise be copied into Gradio's cache,
    from where Gradio serves files to anyone."""
    url, _ = site
    code = uuid.uuid4().hex
    secret = tmp_path / "secret.txt"
    secret.write_text(f"Top secret: the launch code for the vault is {code}.\n", encoding="utf-8")
    forged = {"path": str(secret), "orig_name": "secret.txt", "meta": {"_type": "gradio.FileData"}}
    history = [{"role": "user", "content": [{"type": "file", "file": forged}]}, {"role": "user", "content": forged}]
    reply = _queue_call(url, "chat", ["hello", history, "", ui.OFFLINE, 6, "", "", []])
    assert reply["success"] is False and code not in json.dumps(reply)
    cached = [p for p in Path(gradio_upload_folder()).rglob("secret.txt") if code in p.read_text()]
    assert cached == []


def test_only_the_named_endpoint_is_exposed(site: tuple[str, Path]) -> None:
    url, _ = site
    info = httpx.get(f"{url}/gradio_api/info").json()
    assert list(info["named_endpoints"]) == ["/ask"] and not info.get("unnamed_endpoints")


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
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(request.url))
        page.goto(url + "/", wait_until="load")

        def ask(question: str) -> None:
            page.locator("#question textarea").fill(question)
            page.locator("#ask").click()

        expect(page.locator("#chat .bq-welcome")).to_contain_text("Ask about 2 articles", timeout=60_000)
        page.screenshot(path=str(shots / "welcome.png"))
        ask("What was the minimum arms estimate?")
        quote = page.locator("#chat mark.bq-quote").first
        quote.wait_for(state="attached", timeout=60_000)
        expect(page.locator("#chat .bq-answer").last).to_contain_text("$1.7 billion")
        mark = page.locator("#chat .bq-answer a.bq-cite").first  # an inline [1], a link to its card
        assert "1.7 billion" in (mark.get_attribute("title") or "")  # hovering shows the quote
        expect(quote).not_to_be_visible()
        mark.click()
        expect(quote).to_be_visible()  # the card opened on the highlighted passage
        # "up to" and "over" $1.7 billion share the number: no "sources differ" box (its rendering: test_render)
        expect(page.locator("#chat .bq-conflict")).to_have_count(0)
        # the card names the seed file it quotes and the quote's offsets in it
        meta = page.locator("#chat details.bq-citation .bq-meta").first
        expect(meta).to_contain_text(re.compile(r"/00[01]_[0-9a-f]+\.txt \[\d+:\d+\]"))
        page.screenshot(path=str(shots / "chat-citation.png"))

        ask("Who wrote the study?")
        expect(page.locator("#chat .bq-answer").last).to_contain_text("Olena Guseinova", timeout=60_000)
        ask("What does she say Russia needs?")  # a follow-up: the question searched is shown and can be edited
        searched = page.locator("#chat .bq-searched").last
        expect(searched).to_contain_text("searched: ", timeout=60_000)
        expect(page.locator("#chat .bq-answer").last).to_contain_text("mmunition")
        standalone = searched.locator(".bq-searched-question").inner_text()
        assert "Olena Guseinova" in standalone and standalone != "What does she say Russia needs?"
        searched.locator("button.bq-edit").click()
        expect(page.locator("#question textarea")).to_have_value(standalone)
        page.screenshot(path=str(shots / "chat-follow-up.png"))

        ask("What is the capital of France?")
        expect(page.locator("#chat .bq-abstained").last).to_contain_text("does not cover", timeout=60_000)
        messages = page.locator("#chat .message").count()
        ask("")  # Enter on an empty box: nothing is asked, no empty message appears
        page.wait_for_timeout(1000)
        assert page.locator("#chat .message").count() == messages
        ask("Why? " * 500)  # refused as too long, and the question stays in the box to shorten
        expect(page.locator("#chat .bq-abstained").last).to_contain_text("the limit is 2,000", timeout=60_000)
        expect(page.locator("#question textarea")).to_have_value("Why? " * 500)

        empty = tmp_path / "empty.txt"
        empty.write_text("")
        page.locator("#upload input[type=file]").set_input_files([str(upload), str(empty)])
        page.locator("#add").click()
        expect(page.locator("#ingest-report")).to_contain_text("1 added", timeout=120_000)
        expect(page.locator("#ingest-report")).to_contain_text("empty.txt: empty file, not added")
        assert not (corpus / "empty.txt").exists()  # a refused upload is not left in the corpus folder
        expect(page.locator("#sources")).to_contain_text("Ferry services resume across the Channel")
        assert (corpus / "ferries.txt").read_text(encoding="utf-8") == ARTICLE

        ask("How often do ferries between Dover and Calais run?")
        expect(page.locator("#chat .bq-answer").last).to_contain_text("every 45 minutes", timeout=60_000)
        expect(page.locator("#chat details.bq-citation").last).to_contain_text("Ferry services resume")
        chat = page.locator("#chat")  # the citation card holds the article's Markdown paragraph, as text
        assert chat.locator("img[src*='127.0.0.1:9'], a[href*='example.invalid']").count() == 0
        assert "](http://example.invalid/ferries)" in (chat.text_content() or "")
        assert not [u for u in fetched if "127.0.0.1:9" in u or "example.invalid" in u]
        page.screenshot(path=str(shots / "chat-upload.png"))

        page.locator("#remove-choice input").fill("ferries")
        page.keyboard.press("Enter")
        page.locator("#remove").click()
        expect(page.locator("#ingest-report")).to_contain_text("removed", timeout=60_000)
        expect(page.locator("#sources")).not_to_contain_text("Ferry services resume across the Channel")
        assert not (corpus / "ferries.txt").exists() and (corpus / ".removed" / "ferries.txt").exists()
        page.reload(wait_until="load")  # a page loaded later lists what the index holds then
        expect(page.locator("#chat .bq-welcome")).to_contain_text("Ask about 2 articles", timeout=60_000)
        expect(page.locator("#sources")).not_to_contain_text("Ferry services resume across the Channel")
        abstained = page.locator("#chat .bq-abstained")
        before = abstained.count()  # an earlier question abstained too: wait for this one's answer
        ask("How often do ferries between Dover and Calais run?")
        expect(abstained).to_have_count(before + 1, timeout=60_000)
        expect(abstained.last).to_contain_text("does not cover")
        page.screenshot(path=str(shots / "chat-removed.png"))

        page.get_by_role("tab", name="Settings").click()
        page.get_by_label("From date (YYYY-MM-DD)").fill("yesterday")
        ask("What was the minimum arms estimate?")
        error = page.locator("#chat .bq-abstained").last
        expect(error).to_contain_text("From must be a date like 2024-10-28", timeout=60_000)
        assert "Traceback" not in page.locator("#chat").inner_text()
        browser.close()


def test_server_stops_within_5_s_of_sigterm_after_a_gradio_client_session(tmp_path: Path) -> None:
    """`python ui.py` as users run it: a gradio_client session leaves an event stream open, and
    SIGTERM must still end the process within 5 s."""
    from gradio_client import Client

    from tests.servers import ui_process

    shutil.copytree(SEEDS, tmp_path / "corpus")
    env = dict(os.environ, BRIEFING_INDEX_DIR=str(tmp_path / "index"), GRADIO_ANALYTICS_ENABLED="False")
    with ui_process(tmp_path, "--corpus", "corpus", env=env) as (url, proc):
        client = Client(url + "/", verbose=False)
        assert client.predict("What was the minimum arms estimate?", 6, api_name="/ask")["citations"]
        t = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        assert time.monotonic() - t < 5.0


LAID_OUT = ("#chat", "#question", "#ask", "#new-chat", "#sources", "#upload", "#add")


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return a["x"] < b["x"] + b["width"] - 1 and b["x"] < a["x"] + a["width"] - 1 and \
        a["y"] < b["y"] + b["height"] - 1 and b["y"] < a["y"] + a["height"] - 1  # fmt: skip


# The last answer's first line lies inside the chat's scrolling area and inside the window.
FIRST_LINE_IN_VIEW = """() => {
  const messages = document.querySelectorAll("#chat .bq-answer, #chat .bq-abstained");
  const last = messages[messages.length - 1];
  if (!last) return false;
  let wrap = last.parentElement;
  while (wrap && !["auto", "scroll"].includes(getComputedStyle(wrap).overflowY)) wrap = wrap.parentElement;
  const line = parseFloat(getComputedStyle(last).lineHeight) || 24;
  const top = last.getBoundingClientRect().top;
  const area = wrap ? wrap.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
  return top >= area.top - 1 && top + line <= area.bottom + 1 && top >= 0 && top + line <= window.innerHeight;
}"""


@pytest.mark.parametrize("width", [1400, 1024, 390])
def test_layout_at_three_widths(site: tuple[str, Path], width: int) -> None:
    """No component overlaps another, and on desktop widths the question box is at least half as
    wide as the chat; after every question, follow-up and citation click the answer's first line
    is in view; a screenshot of each width lands in reports/screenshots/."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = site
    shots = ROOT / "reports" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(url + "/", wait_until="load")
        expect(page.locator("#chat .bq-welcome")).to_be_visible(timeout=60_000)
        page.locator("#question textarea").fill("What was the minimum arms estimate?")
        page.locator("#ask").click()
        expect(page.locator("#chat .bq-answer").last).to_contain_text("$1.7 billion", timeout=60_000)
        boxes = {}
        for selector in LAID_OUT:
            box = page.locator(selector).first.bounding_box()
            assert box is not None and box["width"] > 0, f"{selector} is not laid out at {width} px"
            assert box["x"] >= -1 and box["x"] + box["width"] <= width + 1, f"{selector} runs off a {width} px page"
            boxes[selector] = box
        for i, a in enumerate(LAID_OUT):
            for b in LAID_OUT[i + 1 :]:
                assert not _overlaps(boxes[a], boxes[b]), f"{a} overlaps {b} at {width} px"
        if width >= 1024:
            assert boxes["#question"]["width"] >= 0.5 * boxes["#chat"]["width"]
        page.wait_for_function(FIRST_LINE_IN_VIEW, timeout=5_000)
        page.screenshot(path=str(shots / f"layout-{width}.png"), full_page=True)
        for question in ("Who wrote the study?", "What does she say Russia needs?"):  # a question, a follow-up
            answers = page.locator("#chat .bq-answer, #chat .bq-abstained")
            before = answers.count()
            page.locator("#question textarea").fill(question)
            page.locator("#ask").click()
            expect(answers).to_have_count(before + 1, timeout=60_000)
            # the answer as rendered at the end, with its marks and cards (not the streamed text before it)
            expect(answers.last.locator("xpath=..").locator("details.bq-citation").first).to_be_attached(timeout=60_000)
            page.wait_for_function(FIRST_LINE_IN_VIEW, timeout=5_000)
        page.locator("#chat .bq-answer a.bq-cite").last.click()  # a citation card opens below it
        expect(page.locator("#chat details.bq-citation[open]").last).to_be_visible()
        page.wait_for_function(FIRST_LINE_IN_VIEW, timeout=5_000)
        page.screenshot(path=str(shots / f"layout-{width}-follow-up.png"))
        browser.close()


def test_the_examples_are_in_view_on_a_laptop_screen(site: tuple[str, Path]) -> None:
    """At 1366 × 680 (a laptop's browser window) the example questions are in view without scrolling."""
    from playwright.sync_api import expect, sync_playwright

    url, _ = site
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 680})
        page.goto(url + "/", wait_until="load")
        expect(page.locator("#chat .bq-welcome")).to_be_visible(timeout=60_000)
        example = page.get_by_role("button", name=re.compile(r"\?$")).first  # an example question's button
        expect(example).to_be_visible()
        box = example.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 680, f"the examples start below the window: {box}"
        browser.close()
