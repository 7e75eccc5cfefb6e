"""Boilerplate removal and metadata from the text itself, for every input format.

Input: candidate lines as `Block`s (one per text line, or one per HTML block element) in reading
order. Output: which ones are article text, plus what the text says about itself (byline author,
date, headline). The rules look at the *shape* of web boilerplate, not at any particular site:

- lines repeated within the article ("* indicates required", "Subscribe");
- short lines made of call-to-action phrases (newsletter, sign up, skip to content, cookies, …);
- menu/navigation crumbs: three words or fewer and no sentence punctuation;
- short unpunctuated lines that sit between boilerplate lines (newsletter names in a sign-up box);
- teasers for other stories: a line cut off with "…", and the headline just above it;
- the byline ("by NAME DATE … min read"), which becomes metadata.

This module does not read files, split sentences or touch offsets.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from rag.types import Block
from rag.vocab import MONTH_PATTERN, MONTHS, month_number

_CALL_TO_ACTION = re.compile(
    r"subscri|newsletter|sign(ing)? ?up|log ?in\b|sign ?in\b|e-?mail address|your email|"
    r"indicates required|skip to|edit post|share (this|on)|follow us|read more|more news|news ?feed|"
    r"editors?'? ?picks|related (articles|stories|news)|advertisement|cookie|all rights reserved|"
    r"copyright|privacy policy|terms of (use|service)|click here|confirmation email|"
    r"created with ai|listen to (this|the) article|min read$|^(menu|search|home|close|back to top)$",
    re.IGNORECASE,
)
TERMINAL = re.compile(r"[.!?:;\"'”’)\]]$")
_TRUNCATED = re.compile(r"(…|\.\.\.)$")
_MONTHS = MONTH_PATTERN.lower()
_DATE_PATTERNS = (
    re.compile(rf"\b(?P<month>{_MONTHS})\.? (?P<day>\d{{1,2}}),? (?P<year>(19|20)\d\d)\b", re.IGNORECASE),
    re.compile(rf"\b(?P<day>\d{{1,2}}) (?P<month>{_MONTHS})\.?,? (?P<year>(19|20)\d\d)\b", re.IGNORECASE),
    re.compile(r"\b(?P<year>(19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)\b"),
)
_BYLINE = re.compile(r"^by\s+(?P<name>[^\W\d_][\w.'’-]*(?:\s+[^\W\d_][\w.'’-]*){0,3})", re.IGNORECASE)
_MAX_SHORT_WORDS = 15


@dataclass(frozen=True)
class TextMeta:
    """What the article text says about itself."""

    title: str | None = None
    author: str | None = None
    date: dt.date | None = None


def _dates(text: str) -> Iterator[tuple[int, int, dt.date]]:
    """Every full calendar date in `text` as (start, end, date), pattern by pattern."""
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            month = m.group("month")
            try:
                number = int(month) if month.isdigit() else month_number(month)
                yield m.start(), m.end(), dt.date(int(m.group("year")), number, int(m.group("day")))
            except ValueError:
                continue


def date_matches(text: str) -> list[tuple[int, int, dt.date]]:
    """Every full calendar date in `text`, as (start, end, date), in order of position."""
    return sorted(_dates(text))


def parse_date(text: str) -> dt.date | None:
    """The first full calendar date in `text` ("October 28, 2024", "28 Oct 2024", "2024-10-28")."""
    return next((d for _, _, d in _dates(text)), None)


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _words(text: str) -> int:
    return len(text.split())


def _is_byline(text: str) -> bool:
    return bool(_BYLINE.match(text)) and _words(text) <= 20


def parse_byline(text: str) -> TextMeta:
    """Author and date from a byline such as "by Kateryna Hodunova October 28, 2024 9:56 PM"."""
    m = _BYLINE.match(text)
    if not m:
        return TextMeta()
    names = []
    for word in m.group("name").split():
        if word.lower().rstrip(".") in MONTHS or not word[0].isupper():
            break
        names.append(word)
    return TextMeta(author=" ".join(names) or None, date=parse_date(text))


def boilerplate_flags(lines: list[Block]) -> list[bool]:
    """For each candidate line, True when it is boilerplate rather than article text."""
    counts = Counter(_norm(b.text) for b in lines)
    flags = []
    for b in lines:
        text = b.text.strip()
        words = _words(text)
        short = words <= _MAX_SHORT_WORDS
        repeated = counts[_norm(text)] > 1 and words <= 12
        cta = short and bool(_CALL_TO_ACTION.search(text))
        crumb = words <= 3 and not TERMINAL.search(text)
        flags.append(repeated or cta or crumb or _is_byline(text) or not _norm(text))
    # Teasers: a cut-off summary ("… Surging government spen…") and the headline above it.
    for i, b in enumerate(lines):
        if _TRUNCATED.search(b.text.strip()) and _words(b.text) >= 8:
            flags[i] = True
            if i > 0 and _words(lines[i - 1].text) <= 25 and not lines[i - 1].text.strip().endswith("."):
                flags[i - 1] = True
    # Short unpunctuated lines inside a boilerplate zone (e.g. newsletter names in a sign-up box).
    for i in range(1, len(lines) - 1):
        text = lines[i].text.strip()
        if flags[i - 1] and flags[i + 1] and _words(text) <= 8 and not TERMINAL.search(text):
            flags[i] = True
    return flags


LIST_ITEM = re.compile(r"^[-*•–—]\s")
_SENTENCE_END = re.compile(r"[.,;:][\"'”’)]*$")


def headline(text: str) -> bool:
    """A line shaped like a headline: 2 to 25 words, not a sentence or clause (no closing ".",
    ",", ";" or ":"; a "?" or a closing quote is fine: "Call centre users 'lose patience'"), not a
    list item, a byline or a short call to action ("Skip to content")."""
    text = text.strip()
    words = _words(text)
    return (
        2 <= words <= 25
        and len(text) <= 200
        and not _SENTENCE_END.search(text)
        and not LIST_ITEM.match(text)
        and not _is_byline(text)
        and not (words <= 4 and _CALL_TO_ACTION.search(text))
    )


def text_meta(lines: list[Block], flags: list[bool], *, first_stands_alone: bool = False) -> TextMeta:
    """Headline, author and date from the first lines of an article. The headline is the first
    line when it stands alone (a blank line or a markdown heading mark after it) and is shaped
    like one ("Labour chooses Manchester", "Profile: David Miliband"); else the first line of 4 to
    25 words that is not boilerplate and not a sentence."""
    title = author = None
    date = None
    if lines and first_stands_alone and headline(lines[0].text):
        title = lines[0].text.strip()
    for b, boiler in list(zip(lines, flags))[:8]:
        text = b.text.strip()
        if _is_byline(text):
            byline = parse_byline(text)
            author, date = author or byline.author, date or byline.date
        elif not boiler and title is None and _words(text) >= 4 and headline(text) and not TERMINAL.search(text):
            title = text
    return TextMeta(title=title, author=author, date=date)
