"""Read article files (.txt, .md, .html) into cleaned `Article`s that keep original offsets.

`discover(paths)` lists the files to read; `read_article(path)` decodes one file strictly as
UTF-8 (the encoding the citation contract reads it with). An HTML page's main text and metadata
come from `rag.ingest.html` (trafilatura, realigned to offsets). A text or markdown file is split
into lines (after its front matter: `rag.ingest.frontmatter`), boilerplate lines are dropped by
their shape (`rag.ingest.clean`), hard-wrapped lines are joined back into paragraphs, and the
byline and headline in the text fill in what the front matter did not say.
Unreadable input raises `SkipFile` with a reason; callers report it and go on.

This module does not chunk, embed or store anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import InputError, SkipFile
from rag.ingest.clean import LIST_ITEM, TERMINAL, TextMeta, boilerplate_flags, date_matches, text_meta
from rag.ingest.frontmatter import date_value, front_matter
from rag.ingest.html import parse_html
from rag.types import Article, Block, Byline, Entity

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
# Bounds on the work one file can cause (memory and time grow with them; a news article is far below):
MAX_FILE_BYTES = 8 * 1024 * 1024  # a page's markup and text (reading a web page this size takes ~8 s)
MAX_TEXT_CHARS = 1_000_000  # an article's text after cleaning: about 1,500 chunks to embed
MAX_META_CHARS = {"title": 300, "author": 200, "outlet": 200, "date": 100}
_MD_MARKER = re.compile(r"^(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)")


@dataclass(frozen=True)
class _Line:
    block: Block
    break_before: bool  # a blank line (or a paragraph boundary) precedes it
    marker: bool = False  # a markdown heading / list item / quote line


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str], list[tuple[str, str]]]:
    """Files to ingest (as given, directories expanded in sorted order) and (path, reason) skips.

    Raises `InputError` when a path does not exist: nothing is ingested in that case.
    """
    found: list[str] = []
    skipped: list[tuple[str, str]] = []
    given = as_paths(paths)
    if not given:
        raise InputError("Nothing to ingest: give at least one file or folder, e.g. briefing ingest seeds/")
    missing = [p for p in given if not os.path.exists(p)]
    if missing:
        raise InputError(f"No such file or folder: {', '.join(missing)} — check the path and try again")
    for p in given:
        if os.path.isdir(p):
            for child in sorted(Path(p).rglob("*")):
                rel = child.relative_to(p)
                if any(part.startswith(".") for part in rel.parts) or (child.is_dir() and not child.is_symlink()):
                    continue
                name = os.path.join(p, str(rel))
                if reason := _unusable_name(name) or _not_readable_in(child, Path(p)):
                    skipped.append((name, reason))
                elif child.suffix.lower() in SUFFIXES:
                    found.append(name)
                else:
                    skipped.append((name, f"unsupported file type {child.suffix or '(none)'}"))
        else:
            found.append(p)
    return found, skipped


def _unusable_name(path: str) -> str | None:
    """Why a file's name cannot be an article's source (None: it can): it must be valid UTF-8."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid UTF-8 text — rename the file"
    return None


def _not_readable_in(child: Path, folder: Path) -> str | None:
    """Why a file found in `folder` is not read (None: it is): a link that leads nowhere or out of
    the folder is not followed, and only regular files are read."""
    if child.is_symlink():
        target = Path(os.path.realpath(child))
        if not target.exists():
            return "a broken link (its target does not exist)"
        if not target.is_relative_to(Path(os.path.realpath(folder))):
            return f"a link to {target}, outside the folder: not followed (copy the file in instead)"
        if target.is_dir():
            return "a link to a folder: not followed"
    if not child.is_file():
        return "not a regular file (a pipe, socket or device)"
    return None


def as_paths(paths: object) -> list[str]:
    """`paths` (one path or an iterable of them) as strings; `InputError` for anything else."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if paths is None or isinstance(paths, bytes) or not isinstance(paths, Iterable):
        raise InputError(f"Give file or folder paths to ingest, not {type(paths).__name__}")
    out = []
    for p in paths:
        if not isinstance(p, (str, os.PathLike)):
            raise InputError(f"A path must be text or a path object, not {type(p).__name__}: {p!r}")
        out.append(os.fspath(p))
        if not isinstance(out[-1], str) or "\x00" in out[-1]:
            raise InputError(f"Not a usable path: {p!r}")
    return out


_SEPARATORS = "|".join(re.escape(sep) for sep in (os.sep, os.altsep) if sep)  # "\\" is a name's character on POSIX


def article_id(source: str) -> str:
    """A readable, stable id, unique per path: "seeds/001_x.txt" → "seeds-001_x".

    The path's folders and name without its extension, joined by "-". When that says exactly
    which path it was (a .txt file, and nothing in its path but letters of any script, digits,
    "_" and "."), it is the id; otherwise (a space, a "-", other punctuation, a ".." folder, another
    extension) a short hash of the path follows the readable part: "a b.txt" → "a-b~cd6c4a",
    "a-b.txt" → "a-b~427978", "a.md" → "a~fecccc", each its own article.
    """
    path = os.path.normpath(source)
    stem, extension = os.path.splitext(path)
    parts = [part for part in re.split(_SEPARATORS, stem) if part not in ("", ".")]
    if extension == ".txt" and parts and all(part != ".." and re.fullmatch(r"[\w.]+", part) for part in parts):
        return "-".join(parts)
    readable = "-".join(re.sub(r"[^\w.]+", "-", part).strip("-.") for part in parts if part != "..")
    readable = re.sub(r"-{2,}", "-", readable).strip("-") or "article"
    return f"{readable}~{hashlib.sha256(path.encode('utf-8', 'surrogatepass')).hexdigest()[:6]}"


def legacy_id(source: str) -> str:
    """The id earlier versions gave `source` (ASCII only, every other character "-"): ingest
    finds an article indexed under it and moves it to `article_id`."""
    stem = os.path.splitext(os.path.normpath(source))[0].lstrip("./\\")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-") or "article"


def decode(source: str, data: bytes) -> str:
    """UTF-8 text of `data` with newlines read as Python's text mode reads them ("\\r\\n" and a
    lone "\\r" become "\\n"), so that `open(source, encoding="utf-8").read()[start:end] == quote`
    holds for every citation of a CRLF or CR file too; or `SkipFile` saying why not."""
    if not data.strip():
        raise SkipFile("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and _is_utf16_text(data):
        raise SkipFile("UTF-16 text, not UTF-8 — re-save the file as UTF-8")
    if b"\x00" in data[:8192]:
        raise SkipFile("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as e:
        raise SkipFile(
            f"not UTF-8 text (byte 0x{data[e.start]:02x} at position {e.start}) — re-save the file as UTF-8"
        ) from None


def _is_utf16_text(data: bytes) -> bool:
    try:
        text = data[:8192].decode("utf-16", errors="strict" if len(data) <= 8192 else "ignore")
    except UnicodeDecodeError:
        return False
    return bool(text) and sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(text)


def read_article(source: str) -> Article:
    """Read, decode, clean and describe one file. Raises `SkipFile`."""
    if reason := _unusable_name(source):
        raise SkipFile(reason)
    kind = SUFFIXES.get(Path(source).suffix.lower())
    if kind is None:
        raise SkipFile(f"unsupported file type {Path(source).suffix or '(none)'} — use .txt, .md or .html")
    try:
        status = os.stat(source)
        if not stat.S_ISREG(status.st_mode):
            raise SkipFile("not a regular file (a folder, pipe, socket or device)")
        size = status.st_size
        if size > MAX_FILE_BYTES:
            raise SkipFile(f"file too large ({size} bytes; the limit is {MAX_FILE_BYTES})")
        with open(source, "rb") as f:
            data = f.read()
    except OSError as e:
        raise SkipFile(f"cannot read: {e.strerror}") from None
    text = decode(source, data)
    if kind != "html" and len(text) > MAX_TEXT_CHARS:
        raise SkipFile(_too_long(len(text)))
    return build_article(source, text, kind)


def _too_long(chars: int) -> str:
    return f"too long for one article ({chars:,} characters of text; the limit is {MAX_TEXT_CHARS:,}) — split it"


def build_article(source: str, text: str, kind: str) -> Article:
    """Clean `text` (the original file text) into an `Article`."""
    if kind == "html":
        doc = parse_html(text)
        blocks, meta, found = doc.blocks, doc.meta, TextMeta()
    else:
        body_start, meta = front_matter(text) if kind == "markdown" else (0, {})
        lines = _text_lines(text, body_start, markdown=kind == "markdown")
        candidates = [ln.block for ln in lines]
        flags = boilerplate_flags(candidates)
        alone = bool(lines) and (lines[0].marker or (len(lines) > 1 and lines[1].break_before))
        found = text_meta(candidates, flags, first_stands_alone=alone)
        blocks = _paragraphs(text, [ln for ln, drop in zip(lines, flags) if not drop])
    if not blocks:
        raise SkipFile("no article text left after removing boilerplate")
    if (chars := sum(len(b.text) for b in blocks)) > MAX_TEXT_CHARS:
        raise SkipFile(_too_long(chars))
    meta = {key: _bounded(value, MAX_META_CHARS[key]) for key, value in meta.items() if key in MAX_META_CHARS}
    date = date_value(meta.get("date", "")) or found.date
    author = meta.get("author") or _bounded(found.author, MAX_META_CHARS["author"])
    outlet = meta.get("outlet")
    return Article(
        id=article_id(source),
        source=source,
        text=text,
        blocks=tuple(blocks),
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        title=meta.get("title")
        or _bounded(found.title, MAX_META_CHARS["title"])
        or _bounded(fallback_title(_lead(blocks).text), MAX_META_CHARS["title"])
        or "(untitled)",
        author=author,
        date=date,
        outlet=outlet,
        byline=find_byline(text, author, date, outlet),
        title_derived=not (meta.get("title") or found.title),
    )


def _lead(blocks: list[Block]) -> Block:
    """The first block that is not a list item ("- call centre operations are…"), else the first."""
    return next((b for b in blocks if not LIST_ITEM.match(b.text)), blocks[0])


_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _bounded(value: str | None, limit: int) -> str | None:
    """`value` without control, direction or zero-width characters (a title is printed in
    terminals and pages), cut at a word to at most `limit` characters ("…" marks the cut)."""
    if value is None:
        return None
    value = " ".join(_INVISIBLE.sub(" ", value).split()) or None
    if value is None or len(value) <= limit:
        return value
    cut = value[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut) + "…"


def byline_statement(title: str, author: str | None, date: dt.date | None, outlet: str | None) -> str:
    """What an article's byline says, as a sentence a question about the article can be matched
    against: "North Korea's … suggests. This article was written by Kateryna Hodunova on October
    28, 2024. Its author is Kateryna Hodunova." It claims only what the byline states ("published
    by" only with an outlet); a byline's name is the article's author, in the noun too, so "Who
    authored the article?" or "Who is its author?" is matched as well as "Who wrote it?". Used for
    scoring only; the answer quotes the byline itself."""
    day = f"{date:%B} {date.day}, {date.year}" if date else ""
    on = f" on {day}" if day else ""
    claim = f"written by {author}{on}" if author else (f"dated {day}" if day else "")
    if outlet:
        claim = f"{claim} and published by {outlet}" if claim else f"published by {outlet}"
    author_is = f" Its author is {author}." if author else ""
    return f"{title.rstrip('.')}. This article was {claim}.{author_is}" if claim else ""


_MAX_BYLINE = 300  # characters: a longer line (an HTML head) is cited as the author's name alone


def find_byline(text: str, author: str | None, date: dt.date | None, outlet: str | None) -> Byline | None:
    """The line of `text` that names the author (else the first line that states `date`), with the
    author, date and outlet marked in it; None when the text states neither. Offsets are exact:
    `text[b.start:b.end] == b.text`."""
    found = text.find(author) if author else -1
    if found == -1 and date is not None:
        found = next((a for a, _, d in date_matches(text[:20_000]) if d == date), -1)
    if found == -1:
        return None
    start, end = text.rfind("\n", 0, found) + 1, text.find("\n", found)
    end = len(text) if end == -1 else end
    if end - start > _MAX_BYLINE:
        if not author or text.find(author) != found:
            return None
        start, end = found, found + len(author)
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    line = text[start:end]
    marks = []
    if author and (i := line.find(author)) != -1:
        marks.append(Entity(i, i + len(author), "PERSON"))
    marks += [Entity(a, b, "DATE") for a, b, d in date_matches(line) if d == date][:1]
    if outlet and (i := line.find(outlet)) != -1:
        marks.append(Entity(i, i + len(outlet), "ORG"))
    return Byline(start, end, line, tuple(sorted(marks, key=lambda e: e.start)))


def _text_lines(text: str, body_start: int, markdown: bool) -> list[_Line]:
    lines: list[_Line] = []
    blank = True
    pos = body_start
    for raw in text[body_start:].split("\n"):
        start, end = pos, pos + len(raw)
        pos = end + 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            blank = True
            continue
        marker = False
        if markdown and (m := _MD_MARKER.match(text[start:end])):
            start, marker = start + m.end(), True
            if start == end:
                continue
        lines.append(_Line(Block(start, end, text[start:end]), break_before=blank, marker=marker))
        blank = False
    return lines


def _paragraphs(text: str, lines: list[_Line]) -> list[Block]:
    """Join hard-wrapped plain lines (no blank line between, no end punctuation) into paragraphs."""
    blocks: list[Block] = []
    for ln in lines:
        prev = blocks[-1] if blocks else None
        join = (
            prev is not None
            and not ln.break_before
            and not ln.marker
            and not ln.block.starts
            and not prev.starts
            and not TERMINAL.search(prev.text)
            and text[prev.end : ln.block.start].count("\n") == 1
        )
        if join and prev is not None:
            blocks[-1] = Block(prev.start, ln.block.end, text[prev.start : ln.block.end])
        else:
            blocks.append(ln.block)
    return blocks


def fallback_title(text: str, limit: int = 120, least: int = 40) -> str:
    """A headline-less article's title: its first sentence, or, when that is long, the sentence up
    to the last clause break (comma, semicolon, colon, dash) that leaves at least `least`
    characters ("A recent study … has revealed that North Korea's arms sales to Russia have
    surged"), else cut at a word with "…"."""
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    breaks = [m.start() for m in re.finditer(r"\s*[,;:]\s|\s[–—-]\s", first[: limit + 1]) if m.start() >= least]
    if breaks:
        return first[: breaks[-1]]
    return first[:limit].rsplit(" ", 1)[0] + "…"
