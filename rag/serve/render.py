"""HTML for answers: the text with numbered citations, each expandable to its source passage.

`answer_html(answer, text_of, info_of)` renders an `Answer` for the chat UI: abstentions get
their own look; each citation becomes a <details> block showing the article's title, outlet,
date and source, and the passage around the quote with the quote in <mark>. The `[n]` marks in
the text are links to those blocks (`CITE_JS` opens the block and scrolls to it), and hovering
one shows its quote. Everything taken from articles or models is HTML-escaped. No gradio here
(the UI, `ui.py`, calls this).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable

from rag.types import Answer, ArticleInfo, Citation

CONTEXT_CHARS = 280
_MARK = re.compile(r"\[(\d+)\]")
# Opens the citation block a clicked `[n]` links to, scrolls it into view and flashes it; an
# "edit" button puts the question that was searched into the question box.
CITE_JS = """
document.addEventListener("click", (event) => {
  const edit = event.target.closest("button.bq-edit");
  if (edit) {  // the searched question into the question box, to be edited and asked again
    const box = document.querySelector("#question textarea");
    if (!box) return;
    const asked = edit.parentElement.querySelector(".bq-searched-question");
    box.value = asked ? asked.textContent : "";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    return;
  }
  const link = event.target.closest("a.bq-cite");
  if (!link) return;
  const card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) return;
  event.preventDefault();
  card.open = true;
  const answer = card.parentElement.querySelector(".bq-answer");
  if (answer) showFirstLine(answer);  // the answer's first line at the top, its cards below it
  else card.scrollIntoView({ block: "nearest" });
  card.classList.add("bq-flash");
  setTimeout(() => card.classList.remove("bq-flash"), 1500);
});

// The element that scrolls the chat's messages.
function scroller(node) {
  for (let box = node.parentElement; box && box !== document.body; box = box.parentElement) {
    const style = getComputedStyle(box).overflowY;
    if ((style === "auto" || style === "scroll") && box.scrollHeight > box.clientHeight) return box;
  }
  return null;
}

// A message's first line at the top of the chat's scrolling area, and the chat inside the window.
function showFirstLine(message) {
  const wrap = scroller(message);
  if (wrap) wrap.scrollTop += message.getBoundingClientRect().top - wrap.getBoundingClientRect().top - 8;
  const chat = document.querySelector("#chat");
  const box = chat.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) chat.scrollIntoView({ block: "nearest" });
}

// Each new answer's first line is brought into view (Gradio's own autoscroll, off, would show
// its end: the citation cards).
const shown = new WeakSet();
new MutationObserver(() => {
  const messages = document.querySelectorAll("#chat .bq-answer, #chat .bq-abstained, #chat .bq-welcome");
  const last = messages[messages.length - 1];
  if (!last || shown.has(last)) return;
  shown.add(last);
  showFirstLine(last);
}).observe(document.body, { childList: true, subtree: true, characterData: true });
"""


def passage_html(text: str, citation: Citation, context: int = CONTEXT_CHARS) -> str:
    """The quote highlighted inside up to `context` characters of its article on each side."""
    lo = max(0, citation.start - context)
    hi = min(len(text), citation.end + context)
    before, quote, after = text[lo : citation.start], text[citation.start : citation.end], text[citation.end : hi]
    lead = "…" if lo > 0 else ""
    tail = "…" if hi < len(text) else ""
    return (
        f'<p class="bq-passage">{lead}{_esc(before)}<mark class="bq-quote">{_esc(quote)}</mark>{_esc(after)}{tail}</p>'
    )


def citation_html(n: int, citation: Citation, text: str, info: ArticleInfo | None, anchor: str = "") -> str:
    meta = [info.outlet if info and info.outlet else "", info.date.isoformat() if info and info.date else ""]
    meta_text = " · ".join(m for m in meta if m) or "date not stated"
    ident = f' id="{anchor}-{n}"' if anchor else ""
    return (
        f'<details class="bq-citation"{ident} data-n="{n}"><summary><b>[{n}]</b> {_esc(citation.title)}</summary>'
        f'<div class="bq-meta">{_esc(meta_text)} · <code>{_esc(citation.source)}</code> '
        f"[{citation.start}:{citation.end}]</div>{passage_html(text, citation)}</details>"
    )


def answer_html(
    answer: Answer,
    text_of: Callable[[str], str],
    info_of: Callable[[str], ArticleInfo | None],
) -> str:
    anchor = "bq-" + hashlib.sha1(f"{answer.question}\0{answer.text}".encode()).hexdigest()[:10]
    if answer.abstained:
        body = f'<div class="bq-abstained">{_esc(answer.text)}</div>'
    else:
        body = f'<div class="bq-answer">{linked_text(answer.text, answer.citations, anchor)}</div>'
    parts = [body]
    if answer.conflicts and not answer.abstained:
        parts.append(conflict_html(answer, info_of, anchor))
    focus = answer.focus
    if focus is not None and focus.title and (answer.abstained or _cites(answer, focus.articles)):
        # what the conversation was about, when the answer stayed there (or found nothing)
        parts.append(f'<div class="bq-about">about: <span class="bq-about-title">{_esc(focus.title)}</span></div>')
    if answer.standalone_question and answer.standalone_question != answer.question:
        searched = _esc(answer.standalone_question)
        parts.append(
            f'<div class="bq-searched">searched: <span class="bq-searched-question">{searched}</span> '
            '<button type="button" class="bq-edit" title="put this question in the box to edit it and ask again">'
            "edit</button></div>"
        )
    for n, c in enumerate(answer.citations, start=1):
        parts.append(citation_html(n, c, text_of(c.article_id), info_of(c.article_id), anchor))
    for sentence in answer.unsupported_sentences:
        parts.append(f'<div class="bq-unsupported">not supported by any source, left out: {_esc(sentence)}</div>')
    if answer.note:
        parts.append(f'<div class="bq-note">{_esc(answer.note)}</div>')
    return "\n".join(parts)


def conflict_html(answer: Answer, info_of: Callable[[str], ArticleInfo | None], anchor: str) -> str:
    """The sides of a disagreement next to each other: each value with its outlet, date and citation."""
    sides = []
    for side in answer.conflicts:
        if not 1 <= side.citation <= len(answer.citations):
            continue
        c = answer.citations[side.citation - 1]
        info = info_of(c.article_id)
        meta = [
            info.outlet if info and info.outlet else "",
            info.date.isoformat() if info and info.date else "date not stated",
        ]
        link = _cite_link(anchor, side.citation, c.quote)
        sides.append(
            f'<div class="bq-side"><div class="bq-side-value">{_esc(side.value)}</div>'
            f'<div class="bq-meta">{_esc(" · ".join(m for m in meta if m))} · {link}</div>'
            f'<div class="bq-meta">{_esc(c.title)}</div></div>'
        )
    return f'<div class="bq-conflict"><div class="bq-conflict-title">The sources differ</div><div class="bq-sides">{"".join(sides)}</div></div>'


def linked_text(text: str, citations: tuple[Citation, ...], anchor: str) -> str:
    """The escaped answer text with each `[n]` that numbers a citation as a link to its block,
    titled with its quote (shown on hover)."""

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return _cite_link(anchor, n, citations[n - 1].quote) if 1 <= n <= len(citations) else m.group(0)

    return _MARK.sub(link, _esc(text))


def _cite_link(anchor: str, n: int, quote: str) -> str:
    """`[n]` as a link to citation card n, its quote shown on hover."""
    hover = quote if len(quote) <= 300 else quote[:299] + "…"
    return f'<a class="bq-cite" href="#{anchor}-{n}" title="{_esc(hover)}">[{n}]</a>'


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def sources_html(articles: list[ArticleInfo]) -> str:
    """The indexed articles as a list: title, date · outlet · chunks, duplicates flagged."""
    if not articles:
        return '<p class="bq-meta">No articles indexed yet.</p>'
    titles = {a.id: a.title for a in articles}
    items = []
    for a in articles:
        meta = " · ".join(
            x for x in (a.date.isoformat() if a.date else "date not stated", a.outlet or "", f"{a.chunks} chunks") if x
        )
        dup = ""
        if a.duplicates:
            others = "; ".join(_esc(titles.get(d, d)) for d in a.duplicates)
            dup = f'<div class="bq-dup">⚑ same story as: {others}</div>'
        items.append(
            f'<li class="bq-source"><div class="bq-source-title">{_esc(a.title)}</div>'
            f'<div class="bq-meta">{_esc(meta)} · <code>{_esc(a.source)}</code></div>{dup}</li>'
        )
    return f'<ul class="bq-sources">{"".join(items)}</ul>'


def welcome_html(articles: list[ArticleInfo]) -> str:
    """The first message of a chat: what the corpus holds and what to expect of the answers."""
    if not articles:
        return '<div class="bq-welcome">No articles are indexed yet: add some under Sources, then ask about them.</div>'
    outlets = sorted({a.outlet for a in articles if a.outlet})
    dates = sorted(a.date for a in articles if a.date)
    span = ""
    if dates:
        first, last = dates[0].isoformat(), dates[-1].isoformat()
        span = f", dated {first}" if first == last else f", dated {first} to {last}"
    source = f" from {', '.join(outlets[:5])}{' and others' if len(outlets) > 5 else ''}" if outlets else ""
    count = f"{len(articles)} article{'s' if len(articles) != 1 else ''}"
    return (
        f'<div class="bq-welcome"><p><b>Ask about {_esc(count)}{_esc(source)}{_esc(span)}.</b></p>'
        "<p>Every answer quotes the articles it comes from: click a number like [1] to see the passage, "
        "highlighted in its article. When the articles do not hold an answer, it says so; when they "
        "disagree, it shows both sides. Follow-up questions (“and the maximum?”) work.</p></div>"
    )


def _cites(answer: Answer, articles: tuple[str, ...]) -> bool:
    """Whether `answer` cites one of `articles` (ids)."""
    return any(c.article_id in articles for c in answer.citations)
