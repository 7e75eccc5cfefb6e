"""Briefing QA in the browser: a Gradio chat with highlighted sources, plus the HTTP API for bots.

    python ui.py                         # UI and API on http://127.0.0.1:7860 (builds the index if missing)
    python ui.py --host 0.0.0.0 --port 8080 --auth user:pass
    python ui.py --api                   # the HTTP API only (no UI)

The page: a chat that opens with what the corpus holds, whose answers carry inline citation
links (click `[n]` to open its card: the article's title, outlet, date and the passage with the
quote highlighted; hover it for the quote); a sources panel (indexed articles,
duplicates flagged, upload of .txt/.md/.html into the corpus folder with progress); settings
(who answers, top-k, date and source filters); example questions drawn from the corpus. A thin
caller of `rag.BriefingQA`; the only module that imports gradio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Any

# Gradio reads this when it is imported: no usage reports or version checks leave the machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from rag import Answer, BriefingQA, Filters, RagError, Settings  # noqa: E402
from rag.config import corpus_index  # noqa: E402
from rag.errors import InputError  # noqa: E402
from rag.ingest.read import SUFFIXES  # noqa: E402
from rag.query.question import validate_question  # noqa: E402
from rag.serve.render import CITE_JS, answer_html, sources_html, welcome_html  # noqa: E402
from rag.serve.uploads import MAX_UPLOAD_BYTES, accept_upload, discard, retire  # noqa: E402

SEEDS = Path(__file__).resolve().parent / "seeds"  # the demo corpus, indexed in index/ (make run)

OFFLINE = "Extractive (offline, quotes only)"
log = logging.getLogger("briefing.ui")

CSS = """
.bq-answer { font-size: 1.02rem; line-height: 1.55; }
.bq-abstained { background: #fff7e6; border-left: 4px solid #f0a020; padding: .6rem .8rem; border-radius: 6px; color: #6b4a00; }
.bq-citation { margin-top: .45rem; border: 1px solid #d8dbe8; border-radius: 8px; padding: .35rem .7rem; background: #fafbff; }
.bq-citation summary { cursor: pointer; }
.bq-meta { color: #5a6072; font-size: .85rem; margin: .3rem 0; overflow-wrap: anywhere; }
.bq-passage { font-size: .92rem; line-height: 1.5; margin: .2rem 0 .3rem; }
mark.bq-quote { background: #ffe47a; padding: 0 .1rem; border-radius: 3px; }
.bq-about, .bq-searched, .bq-note, .bq-unsupported { color: #5a6072; font-size: .85rem; margin-top: .35rem; }
.bq-unsupported { color: #a03030; }
.bq-status { color: #5a6072; font-size: .85rem; font-style: italic; }
a.bq-cite { text-decoration: none; font-weight: 600; color: #3a44b0; padding: 0 .05rem; }
a.bq-cite:hover { text-decoration: underline; }
.bq-citation.bq-flash { outline: 2px solid #f0a020; }
.bq-welcome { color: #2d3142; line-height: 1.5; }
button.bq-edit { border: 1px solid #c9cde0; border-radius: 4px; background: #fff; font-size: .8rem; padding: 0 .35rem; cursor: pointer; }
.bq-conflict { margin-top: .5rem; border: 1px solid #f0c36d; background: #fffaf0; border-radius: 8px; padding: .45rem .7rem; }
.bq-conflict-title { font-weight: 600; color: #8a5a00; font-size: .9rem; margin-bottom: .3rem; }
.bq-sides { display: flex; flex-wrap: wrap; gap: .6rem; }
.bq-side { flex: 1 1 14rem; min-width: 0; border-left: 3px solid #f0a020; padding-left: .5rem; }
.bq-side-value { font-weight: 600; }
.bq-sources { list-style: none; padding: 0; margin: 0; }
.bq-source { border-bottom: 1px solid #e3e6ef; padding: .5rem 0; }
.bq-source-title { font-weight: 600; }
.bq-dup { color: #8a5a00; font-size: .85rem; }
footer { display: none !important; }
#chat .scroll-down-button-container, #chat .icon-button-wrapper.top-panel { display: none !important; }  /* drawn over the text; "New chat" clears */
.bq-meta code { overflow-wrap: anywhere; word-break: break-all; }
#ask, #new-chat { white-space: nowrap; }
@media (max-width: 480px) { #new-chat, #ask { min-width: 76px !important; flex: 0 0 76px !important; font-size: .85rem; padding: 0 .3rem; } }
"""


def _date(value: str, label: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RagError(f"{label} must be a date like 2024-10-28, not {value!r}") from None


def new_session() -> str:
    return uuid.uuid4().hex


def build_ui(qa: BriefingQA, corpus: Path) -> gr.Blocks:
    model = qa.endpoint.name if qa.endpoint is not None else None  # the model's own name, as the client sends it
    models = [OFFLINE] + ([f"Language model: {model}"] if model else [])

    def sources(articles: list[Any]) -> list[tuple[str, str]]:
        """The indexed articles as a list offers them: each by its title and file name."""
        return [(f"{a.title} · {Path(a.source).name}", a.source) for a in articles]

    def listing() -> tuple[str, Any]:
        """The Sources table and the article choices, from one read of the article table."""
        articles = qa.articles()
        return sources_html(articles), gr.update(choices=sources(articles))

    def titled(article_id: str, info: Any = None) -> str:
        """An article as a message names it: its title and file name."""
        info = info or qa.article_infos([article_id]).get(article_id)
        return f"“{info.title}” ({Path(info.source).name})" if info else article_id

    def render(answer: Answer) -> str:
        infos = qa.article_infos([c.article_id for c in answer.citations])
        return answer_html(answer, qa.article_text, infos.get)

    def respond(message: str, history: list[dict[str, Any]], session: str, mode: str, top_k: float,
                date_from: str, date_to: str, chosen: list[str]):  # fmt: skip
        if not message.strip():  # Enter on an empty box: nothing to ask
            yield history, gr.skip()
            return
        try:
            validate_question(message, qa.settings.max_question_chars)
        except RagError as e:  # the question stays in the box, to shorten or fix
            yield (
                [
                    *history,
                    {"role": "assistant", "content": f'<div class="bq-abstained">⚠ {html.escape(str(e))}</div>'},
                ],
                gr.skip(),
            )
            return
        writing = mode != OFFLINE and qa.llm is not None  # a model writes, sentence by sentence
        status = (
            '<div class="bq-status">'
            + ("the model is writing; checking its quotes…" if writing else "searching…")
            + "</div>"
        )
        history = [
            *history,
            {"role": "user", "content": f'<div class="bq-question">{html.escape(message)}</div>'},
            {"role": "assistant", "content": status},
        ]
        yield history, ""  # the box is cleared once: what the user types next, while this answer completes, stays
        try:
            filters = Filters(
                sources=tuple(chosen or ()), date_from=_date(date_from, "From"), date_to=_date(date_to, "To")
            )
            chat = qa.chat(session_id=session or None)
            streamed = ""
            stream = chat.ask_stream(message, filters=filters, top_k=int(top_k), offline=mode == OFFLINE)
            for delta in stream:  # verified sentences only, as each is checked
                streamed += delta
                history[-1]["content"] = f'<div class="bq-answer">{html.escape(streamed)}</div>' + (
                    status if writing else ""
                )
                yield history, gr.skip()
            history[-1]["content"] = render(stream.answer)
            yield history, gr.skip()
        except (RagError, ValueError) as e:
            history[-1]["content"] = f'<div class="bq-abstained">⚠ {html.escape(str(e))}</div>'
            yield history, gr.skip()
        except Exception as e:  # a bug: show a readable line, keep the trace in the server log
            log.exception("chat failed")
            history[-1]["content"] = (
                f'<div class="bq-abstained">⚠ Something went wrong ({type(e).__name__}). Please try again.</div>'
            )
            yield history, gr.skip()

    def add_files(files: list[dict[str, Any]] | None, progress: gr.Progress = gr.Progress()):  # noqa: B008
        # The event runs with preprocess=False: Gradio's preprocessing would copy whatever path a
        # crafted request names into its upload folder first, so the raw payload is checked here.
        if not files:
            return "Choose .txt, .md or .html files first.", *listing()
        lines = []
        stored = []
        before = set(corpus.iterdir()) if corpus.is_dir() else set()
        for f in files if isinstance(files, list) else [files]:
            path = f.get("path") if isinstance(f, dict) else None
            name = f.get("orig_name") if isinstance(f, dict) else None
            try:  # only files this server received as uploads
                if not isinstance(path, str) or not path:
                    raise RagError("refused: not an uploaded file")
                stored.append(accept_upload(path, gr.utils.get_upload_folder(), corpus, name=name or None))
            except (RagError, OSError) as e:
                lines.append(f"✗ {e}")
        new = {p for p in stored if p not in before}  # files this upload made, not ones it found there
        if stored:
            relative = [str(p) for p in stored]
            report = qa.ingest(
                relative, progress=lambda done, total, src: progress(done / max(total, 1), desc=f"ingesting {src}")
            )
            lines.insert(0, f"✓ {report.summary()}")
            lines += [f"✗ {Path(s.source).name}: {s.reason}, not added" for s in report.skipped]
            for s in report.skipped:
                if Path(s.source) in new:
                    discard(Path(s.source), corpus)
            lines += [
                f"⚑ {titled(a)} is the same story as {titled(b)} (similarity {sim:.2f}); both kept and linked"
                for a, b, sim in report.duplicates
            ]
        return "\n\n".join(lines), *listing()

    def remove_articles(chosen_sources: list[str] | None):
        if not chosen_sources:
            return "Choose the articles to remove first.", *listing()
        articles = qa.articles()
        names = {a.id: titled(a.id, a) for a in articles}
        known = {a.source for a in articles}
        picked = [s for s in chosen_sources if s in known]  # only what the list offered
        report = qa.remove(picked) if picked else None
        lines = [f"✓ removed {names.get(a, a)}" for a in (report.removed if report else ())]
        for source in picked:
            if (moved := retire(source, corpus)) is not None:
                lines.append(f"  its file was moved to {moved} (restore it by moving it back)")
        lines += [f"✗ {Path(s).name}: not in the index (the list was out of date)" for s in set(chosen_sources) - known]
        return "\n\n".join(lines), *listing()

    def api_ask(question: str, top_k: float = 6) -> dict[str, Any]:
        """Ask the corpus; returns the `ask --json` schema."""
        try:
            return qa.ask(question, top_k=int(top_k)).to_dict()
        except RagError as e:
            raise gr.Error(str(e)) from None

    def welcome(articles: list[Any] | None = None) -> list[dict[str, str]]:
        return [{"role": "assistant", "content": welcome_html(qa.articles() if articles is None else articles)}]

    def loaded() -> tuple[Any, ...]:
        """A page as it loads: what the corpus holds now, not at start-up, in the welcome, the
        Sources table and both article choices (one read of the article table)."""
        articles = qa.articles()
        choices = gr.update(choices=sources(articles))
        return welcome(articles), sources_html(articles), choices, choices

    articles = qa.articles()  # what the page is built with; `loaded` reads it again for each visitor
    with gr.Blocks(title="Briefing QA", fill_height=True) as demo:
        session = gr.State("")
        gr.Markdown("## Briefing QA\nAnswers from the briefing corpus only — every quote checked against its source.")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(  # no share/clear/copy-all toolbar over the messages: "New chat" clears
                    value=welcome(articles),
                    elem_id="chat",
                    height="calc(100vh - 300px)",  # the height the window gives it, the examples below in view
                    min_height=300,
                    autoscroll=False,  # CITE_JS brings each new answer's first line into view instead
                    label="Conversation",
                    show_label=False,
                    buttons=[],
                    # Every message is HTML that rag.serve.render (or this file) escaped: no Markdown
                    # is read from it, so an article's "![x](url)", "[link](url)" or "[1]" stays text.
                    render_markdown=False,
                )
                with gr.Row():
                    msg = gr.Textbox(
                        placeholder="Ask about the articles…",
                        label="Question",
                        show_label=False,
                        scale=5,
                        elem_id="question",
                        autofocus=True,
                        min_width=110,  # the box and both buttons on one line at 390 px
                    )
                    send = gr.Button("Ask", variant="primary", scale=0, min_width=80, elem_id="ask")
                    clear = gr.Button("New chat", scale=0, min_width=90, elem_id="new-chat")
                examples = qa.example_questions()
                if examples:
                    gr.Examples(examples=[[q] for q in examples], inputs=[msg], label="Try")
            with gr.Column(scale=2):
                with gr.Tab("Sources"):
                    table = gr.HTML(value=sources_html(articles), elem_id="sources")
                    files = gr.File(
                        file_count="multiple",
                        file_types=sorted(SUFFIXES),
                        label="Add articles (.txt, .md, .html)",
                        elem_id="upload",
                    )
                    add = gr.Button("Add to corpus", elem_id="add")
                    added = gr.Markdown(elem_id="ingest-report")
                    doomed = gr.Dropdown(
                        choices=sources(articles),
                        multiselect=True,
                        label="Remove from the index",
                        elem_id="remove-choice",
                    )
                    remove = gr.Button("Remove", variant="stop", elem_id="remove")
                with gr.Tab("Settings"):
                    hint = (
                        f"A language model writes the answers ({model}); "
                        "its quotes are checked, and the extractive answer stands in when they fail."
                        if model
                        else "To let a language model answer, set OPENAI_BASE_URL and BRIEFING_LLM_MODEL "
                        "(or OPENAI_API_KEY) and restart; see the README."
                    )
                    mode = gr.Radio(models, value=models[-1], label="Who answers", info=hint)
                    top_k = gr.Slider(1, 12, value=qa.settings.top_k, step=1, label="Passages read (top-k)")
                    date_from = gr.Textbox(label="From date (YYYY-MM-DD)")
                    date_to = gr.Textbox(label="To date (YYYY-MM-DD)")
                    chosen = gr.Dropdown(choices=sources(articles), multiselect=True, label="Only these sources")
        inputs = [msg, chatbot, session, mode, top_k, date_from, date_to, chosen]
        private = {"api_visibility": "private"}  # the UI's own events; the API is /ask alone
        demo.load(new_session, None, session, **private)
        demo.load(loaded, None, [chatbot, table, chosen, doomed], **private)
        msg.submit(respond, inputs, [chatbot, msg], **private)
        send.click(respond, inputs, [chatbot, msg], **private)
        clear.click(lambda: (welcome(), new_session()), None, [chatbot, session], **private)
        add.click(add_files, [files], [added, table, chosen], preprocess=False, **private).then(
            lambda: gr.update(choices=sources(qa.articles())), None, doomed, **private
        )
        remove.click(remove_articles, [doomed], [added, table, chosen], **private).then(
            lambda: gr.update(choices=sources(qa.articles()), value=[]), None, doomed, **private
        )
        gr.api(api_ask, api_name="ask")
    return demo


def ensure_index(qa: BriefingQA, corpus: Path) -> None:
    """Bring the index up to date with the corpus folder (unchanged files cost nothing)."""
    if not corpus.is_dir():
        raise InputError(f"No such folder: {corpus} — give the folder that holds your articles (--corpus DIR)")
    print(f"Reading {corpus}/ into {qa.settings.index_dir}/ …", flush=True)
    report = qa.ingest([corpus])
    print(report.summary(), flush=True)
    for skipped in report.skipped:
        print(f"  skipped {skipped.source}: {skipped.reason}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", help="user:pass required to use the UI and the API")
    p.add_argument(
        "--corpus",
        default="seeds",
        help="your articles' folder: read into an index of its own (.indexes/NAME-HASH; seeds/: index/), uploads go there",
    )
    p.add_argument("--api", action="store_true", help="serve the HTTP API only")
    args = p.parse_args(argv)
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            p.error("--auth must be user:pass")
        auth = (user, password)
    try:
        corpus = Path(args.corpus)
        settings = Settings.from_env()
        if "BRIEFING_INDEX_DIR" not in os.environ and corpus.resolve() != SEEDS.resolve():
            settings = settings.with_(index_dir=corpus_index(corpus))  # its own index, never the seeds'
        qa = BriefingQA(settings)
        ensure_index(qa, corpus)
        app = serve_app(qa, corpus, auth=auth, api_only=args.api)
    except RagError as e:
        print(f"briefing: {e}", file=sys.stderr)
        return 2
    import uvicorn

    print(f"Briefing QA on http://{args.host}:{args.port}/", flush=True)
    # Open streams (the UI's event queue, gradio_client) would hold a graceful shutdown open
    # forever: after SIGTERM, requests get 2 s to finish, then their connections are cut.
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=2)
    return 0


def serve_app(qa: BriefingQA, corpus: Path, *, auth: tuple[str, str] | None = None, api_only: bool = False) -> Any:
    """The FastAPI app: the bots' API, with the Gradio UI mounted at / unless `api_only`."""
    from rag.serve.api import create_app

    app = create_app(qa, auth=auth)
    if api_only:
        return app
    theme = gr.themes.Soft(
        primary_hue="indigo", font=["Inter", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    blocks = build_ui(qa, corpus)
    app = gr.mount_gradio_app(
        app, blocks, path="/", auth=auth, max_file_size=MAX_UPLOAD_BYTES, theme=theme, css=CSS, head=f"<script>{CITE_JS}</script>", footer_links=[],
    )  # fmt: skip
    # Gradio checks that a file named in an event's input is one it received as an upload only
    # once `launch()` has run; a mounted app never runs it, so that check would be off and any
    # server path named in a crafted request would be copied into the upload cache (and served,
    # or ingested). `has_launched` is the flag that check reads; setting it turns the check on.
    blocks.has_launched = True
    return app


if __name__ == "__main__":
    sys.exit(main())
