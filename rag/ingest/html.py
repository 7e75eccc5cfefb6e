"""HTML → candidate text blocks that remember where every character came from.

Uses the standard library's `html.parser.HTMLParser` (a real tokenizer, not regexes) with
`convert_charrefs=False`, so each text run it reports is a verbatim slice of the file and each
entity reference is seen separately: every clean character keeps its original offset.
Scripts, styles, navigation, headers, footers, asides, forms and similar are skipped whole;
block elements (p, h1–h6, li, div, …) end a block. Metadata comes from <title>, <h1> and the
usual <meta> tags (og:title, author, article:published_time, og:site_name) and <time datetime>.

This module does not decide what is boilerplate inside the kept blocks (see `rag.clean`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser

from rag.types import Block

_SKIP = {
    "script", "style", "noscript", "template", "svg", "nav", "header", "footer", "aside", "form",
    "button", "select", "option", "iframe", "figure", "menu", "dialog", "head",
}  # fmt: skip
_BLOCK = {
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
    "blockquote", "pre", "br", "hr", "tr", "td", "th", "table", "dd", "dt", "dl", "body", "title",
    "figcaption", "address",
}  # fmt: skip
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}


@dataclass
class HtmlDoc:
    blocks: list[Block] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


class _Parser(HTMLParser):
    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = text
        self.line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.line_starts.append(i + 1)
        self.doc = HtmlDoc()
        self.skip_depth = 0
        self.stack: list[str] = []
        self.chars: list[str] = []
        self.spans: list[tuple[int, int]] = []
        self.capture: str | None = None  # "title" or "h1" while inside one
        self.captured: dict[str, str] = {}

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    # tags ----------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or "").lower()
            if key and a.get("content"):
                self.doc.meta.setdefault(key, a["content"].strip())
        if tag == "time" and a.get("datetime"):
            self.doc.meta.setdefault("time", a["datetime"])
        if tag in _VOID:
            if tag in _BLOCK:
                self._flush()
            return
        if tag in _SKIP and tag != "head":
            self.skip_depth += 1
        self.stack.append(tag)
        if tag in _BLOCK:
            self._flush()
        if tag in ("title", "h1") and tag not in self.captured:
            self.capture = tag

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            if top in _SKIP and top != "head":
                self.skip_depth -= 1
            if top == tag:
                break
        if tag in _BLOCK:
            self._flush()
        if tag == self.capture:
            self.capture = None

    # text ----------------------------------------------------------------------------------
    def _emit(self, text: str, start: int, end: int, verbatim: bool) -> None:
        if self.capture:
            self.captured[self.capture] = self.captured.get(self.capture, "") + text
        if self.skip_depth or self.capture == "title" or "head" in self.stack:
            return
        for i, ch in enumerate(text):
            self.chars.append(ch)
            self.spans.append((start + i, start + i + 1) if verbatim else (start, end))

    def handle_data(self, data: str) -> None:
        start = self._offset()
        self._emit(data, start, start + len(data), verbatim=True)

    def handle_entityref(self, name: str) -> None:
        start = self._offset()
        raw = f"&{name};" if self.source.startswith(f"&{name};", start) else f"&{name}"
        self._emit(html.unescape(raw), start, start + len(raw), verbatim=False)

    def handle_charref(self, name: str) -> None:
        start = self._offset()
        raw = f"&#{name};" if self.source.startswith(f"&#{name};", start) else f"&#{name}"
        self._emit(html.unescape(raw), start, start + len(raw), verbatim=False)

    def _flush(self) -> None:
        """Turn collected characters into one block, whitespace collapsed, origins kept."""
        chars, spans, self.chars, self.spans = self.chars, self.spans, [], []
        text: list[str] = []
        kept: list[tuple[int, int]] = []
        for ch, span in zip(chars, spans):
            if ch.isspace():
                if text and text[-1] != " ":
                    text.append(" ")
                    kept.append(span)
                continue
            text.append(ch)
            kept.append(span)
        if text and text[-1] == " ":
            text.pop()
            kept.pop()
        if not text:
            return
        starts, ends = zip(*kept)
        self.doc.blocks.append(Block(start=starts[0], end=ends[-1], text="".join(text), starts=starts, ends=ends))


def parse_html(text: str) -> HtmlDoc:
    """Candidate blocks (with offsets into `text`) and metadata of an HTML document."""
    parser = _Parser(text)
    parser.feed(text)
    parser.close()
    parser._flush()
    for key in ("title", "h1"):
        if value := " ".join(parser.captured.get(key, "").split()):
            parser.doc.meta.setdefault(f"_{key}", html.unescape(value))
    return parser.doc
