"""HTML → the article's main text as blocks that remember where every character came from.

Two steps, each done by the tool that is good at it:

1. **What is the article** (main text, title, author, date, site name): trafilatura, a kept
   library for web-page extraction (htmldate finds the publication date inside it). Its output
   is plain text and cannot point back into the file.
2. **Where each character is**: a small offset-keeping tokenizer on the standard library's
   `html.parser.HTMLParser` with `convert_charrefs=False`, so every text run it reports is a
   verbatim slice of the file and every entity reference is seen on its own. It splits the page
   into blocks at block elements and skips what is never article text by HTML's own semantics
   (scripts, styles, navigation, headers, footers, asides, forms).

The extracted text is then realigned to the tokenizer's blocks (`_realign`): each extracted
line is found, whitespace-normalised, in the block stream in reading order, and the characters
it covers are kept with their original offsets. A page too small for trafilatura to call
anything its main text is a fragment, and is kept whole (its visible blocks).

This module does not decide what is boilerplate in plain-text files (see `rag.ingest.clean`).
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
    """The main-text blocks of a page (offsets into the page's text) and its metadata
    (`title`, `author`, `date` as ISO text, `outlet`; only the keys trafilatura found)."""

    blocks: list[Block] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


class _Tokenizer(HTMLParser):
    """Visible text in blocks, each clean character with the original span it came from."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = text
        self.line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.line_starts.append(i + 1)
        self.blocks: list[Block] = []
        self.skip_depth = 0
        self.stack: list[str] = []
        self.chars: list[str] = []
        self.spans: list[tuple[int, int]] = []

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag in _BLOCK:
                self.flush()
            return
        if tag in _SKIP:
            self.skip_depth += 1
        self.stack.append(tag)
        if tag in _BLOCK:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            if top in _SKIP:
                self.skip_depth -= 1
            if top == tag:
                break
        if tag in _BLOCK:
            self.flush()

    def _emit(self, text: str, start: int, end: int, verbatim: bool) -> None:
        if self.skip_depth or "title" in self.stack:
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

    def flush(self) -> None:
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
        self.blocks.append(Block(start=starts[0], end=ends[-1], text="".join(text), starts=starts, ends=ends))


def visible_blocks(text: str) -> list[Block]:
    """Every visible block of the page, in reading order, with original offsets."""
    tokenizer = _Tokenizer(text)
    tokenizer.feed(text)
    tokenizer.close()
    tokenizer.flush()
    return tokenizer.blocks


def _extract(text: str) -> tuple[list[str], dict[str, str]]:
    """trafilatura's main-text lines and metadata for the page ([] when it finds no main text)."""
    import trafilatura

    # The date only from the page's markup (meta tags, <time>, the byline): the extensive search
    # reads dates out of scripts, URLs and base64 data and invents one for a page that has none.
    doc = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        return [], {}
    meta = {
        key: " ".join(str(value).split())
        for key, value in (("title", doc.title), ("author", doc.author), ("date", doc.date), ("outlet", doc.sitename))
        if value
    }
    return (doc.text or "").split("\n"), meta


def _sub_block(block: Block, i: int, j: int) -> Block:
    return Block(
        start=block.starts[i],
        end=block.ends[j - 1],
        text=block.text[i:j],
        starts=block.starts[i:j],
        ends=block.ends[i:j],
    )


def _realign(blocks: list[Block], lines: list[str]) -> list[Block]:
    """The parts of `blocks` that `lines` (extracted text, in reading order) cover, as blocks
    with original offsets; a line found nowhere in the page's visible text is dropped."""
    stream = "\n".join(b.text for b in blocks)
    owner: list[tuple[int, int]] = [(bi, ci) for bi, b in enumerate(blocks) for ci in range(len(b.text) + 1)][:-1]
    kept = bytearray(len(stream))
    cursor = 0
    for line in lines:
        wanted = " ".join(line.split())
        if not wanted:
            continue
        at = stream.find(wanted, cursor)
        if at < 0:
            at = stream.find(wanted)
        if at < 0:
            continue
        kept[at : at + len(wanted)] = b"\x01" * len(wanted)
        cursor = at + len(wanted)
    out: list[Block] = []
    run_start: int | None = None
    for pos in range(len(stream) + 1):
        on = pos < len(stream) and kept[pos] and stream[pos] != "\n"
        bridge = pos < len(stream) and stream[pos] == " " and run_start is not None  # a gap of one space
        if on or (bridge and pos + 1 < len(stream) and kept[pos + 1]):
            if run_start is None:
                run_start = pos
            continue
        if run_start is not None:
            (bi, i), j = owner[run_start], owner[pos - 1][1] + 1
            piece = _sub_block(blocks[bi], i, j)
            if piece.text.strip():
                out.append(piece)
            run_start = None
    return out


def parse_html(text: str) -> HtmlDoc:
    """The main-text blocks (offsets into `text`) and the metadata of an HTML document."""
    blocks = visible_blocks(text)
    lines, meta = _extract(text)
    main = _realign(blocks, lines) if lines else []
    return HtmlDoc(blocks=main or blocks, meta=meta)
