"""HTML for answers: the text with numbered citations, each expandable to its source passage.

`answer_html(answer, text_of, info_of)` renders an `Answer` for the chat UI: abstentions get
their own look; each citation becomes a <details> block showing the article's title, outlet,
date and source, and the passage around the quote with the quote in <mark>. Everything taken
from articles or models is HTML-escaped. No gradio here (the UI, `ui.py`, calls this).
"""

from __future__ import annotations

import html
from collections.abc import Callable

from rag.types import Answer, ArticleInfo, Citation

CONTEXT_CHARS = 280


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


def citation_html(n: int, citation: Citation, text: str, info: ArticleInfo | None) -> str:
    meta = [info.outlet if info and info.outlet else "", info.date.isoformat() if info and info.date else ""]
    meta_text = " · ".join(m for m in meta if m) or "undated"
    return (
        f'<details class="bq-citation" data-n="{n}"><summary><b>[{n}]</b> {_esc(citation.title)}</summary>'
        f'<div class="bq-meta">{_esc(meta_text)} · <code>{_esc(citation.source)}</code> '
        f"[{citation.start}:{citation.end}]</div>{passage_html(text, citation)}</details>"
    )


def answer_html(
    answer: Answer,
    text_of: Callable[[str], str],
    info_of: Callable[[str], ArticleInfo | None],
) -> str:
    if answer.abstained:
        body = f'<div class="bq-abstained">{_esc(answer.text)}</div>'
    else:
        body = f'<div class="bq-answer">{_esc(answer.text)}</div>'
    parts = [body]
    if answer.standalone_question and answer.standalone_question != answer.question:
        parts.append(f'<div class="bq-searched">searched: {_esc(answer.standalone_question)}</div>')
    for n, c in enumerate(answer.citations, start=1):
        parts.append(citation_html(n, c, text_of(c.article_id), info_of(c.article_id)))
    for sentence in answer.unsupported_sentences:
        parts.append(f'<div class="bq-unsupported">not supported by any source, left out: {_esc(sentence)}</div>')
    if answer.note:
        parts.append(f'<div class="bq-note">{_esc(answer.note)}</div>')
    return "\n".join(parts)


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
            x for x in (a.date.isoformat() if a.date else "undated", a.outlet or "", f"{a.chunks} chunks") if x
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
