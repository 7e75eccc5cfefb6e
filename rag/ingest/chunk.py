"""Sentence-aware chunking that keeps original character offsets.

Sentences come from NLTK's Punkt model for English, loaded from the copy that llama-index ships
in `llama_index/core/_static/nltk_cache` (no download). Each block of an `Article` is split on
its own, so a sentence never spans two paragraphs, and every sentence maps back to the original
file text through `Block.span`. Chunks are runs of whole consecutive sentences of about
`max_chars` characters; a sentence longer than that becomes a chunk by itself. A chunk that
repeats an earlier chunk of the article word for word is left out.

This module does not embed or store anything.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from rag.types import Article, Block, Chunk, Sentence


@lru_cache(maxsize=1)
def _punkt():  # noqa: ANN202 - nltk has no public type for this
    import nltk.data
    from nltk.tokenize.punkt import PunktTokenizer

    root = str(files("llama_index.core") / "_static" / "nltk_cache")
    if root not in nltk.data.path:
        nltk.data.path.append(root)  # nltk only reads model files below its search path
    return PunktTokenizer("english")


MAX_SENTENCE_CHARS = 1_500  # a longer "sentence" (a table, a list without full stops) is cut into pieces


def split_sentences(block: Block) -> list[Sentence]:
    """Sentences of one block, with offsets into the original article text; none is longer than
    `MAX_SENTENCE_CHARS` (the models downstream read bounded pieces)."""
    out = []
    for i, j in _spans(block.text):
        for a, b in _pieces(block.text, i, j):
            start, end = block.span(a, b)
            out.append(Sentence(start=start, end=end, text=block.text[a:b]))
    return out


_QUESTION_OR_EXCLAMATION = re.compile(r"[?!][\"'”’)\]]*\s*$")


def _spans(text: str) -> list[tuple[int, int]]:
    """Punkt's sentence spans, with a span that starts in lower case joined to the one before it
    when that one ends in a question or exclamation mark inside quotes: quoted speech and its
    attribution are one sentence ("'Aren't we clever?'" said the 74-year-old comedian.), which
    Punkt cuts after the mark, leaving a quote that names no one."""
    out: list[tuple[int, int]] = []
    for i, j in _punkt().span_tokenize(text):
        first = text[i:j].lstrip()[:1]
        if out and first.islower() and _QUESTION_OR_EXCLAMATION.search(text[out[-1][0] : out[-1][1]]):
            out[-1] = (out[-1][0], j)
        else:
            out.append((i, j))
    return out


def _pieces(text: str, i: int, j: int) -> list[tuple[int, int]]:
    """`text[i:j]` without its edge spaces, cut at spaces (or anywhere, if it has none) into
    pieces of at most `MAX_SENTENCE_CHARS`."""
    out = []
    while i < j:
        while i < j and text[i].isspace():
            i += 1
        end = j
        while end > i and text[end - 1].isspace():
            end -= 1
        if end - i > MAX_SENTENCE_CHARS:
            cut = text.rfind(" ", i + MAX_SENTENCE_CHARS // 2, i + MAX_SENTENCE_CHARS)
            end = cut if cut > i else i + MAX_SENTENCE_CHARS
            while end > i and text[end - 1].isspace():
                end -= 1
        if end > i:
            out.append((i, end))
        i = max(end, i + 1)
    return out


def sentences(article: Article) -> list[Sentence]:
    return [s for block in article.blocks for s in split_sentences(block)]


def chunk_article(article: Article, max_chars: int = 700) -> list[Chunk]:
    """Group the article's sentences into chunks of about `max_chars` characters."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    groups: list[list[Sentence]] = []
    size = 0
    for s in sentences(article):
        if groups and size + 1 + len(s.text) <= max_chars:
            groups[-1].append(s)
            size += 1 + len(s.text)
        else:
            groups.append([s])
            size = len(s.text)
    # A chunk that repeats an earlier one word for word (a page of filler, a repeated table) says
    # nothing new; many copies of one vector also cut other chunks out of the vector index's graph.
    seen: set[str] = set()
    unique = [g for g in groups if (text := " ".join(s.text for s in g)) not in seen and not seen.add(text)]
    return [
        Chunk(id=f"{article.id}@{article.version}#{n}", article_id=article.id, n=n, sentences=tuple(group))
        for n, group in enumerate(unique)
    ]
