"""Sentence-aware chunking that keeps original character offsets.

Sentences come from NLTK's Punkt model for English, loaded from the copy that llama-index ships
in `llama_index/core/_static/nltk_cache` (no download). Each block of an `Article` is split on
its own, so a sentence never spans two paragraphs, and every sentence maps back to the original
file text through `Block.span`. Chunks are runs of whole consecutive sentences of about
`max_chars` characters; a sentence longer than that becomes a chunk by itself.

This module does not embed or store anything.
"""

from __future__ import annotations

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


def split_sentences(block: Block) -> list[Sentence]:
    """Sentences of one block, with offsets into the original article text."""
    out = []
    for i, j in _punkt().span_tokenize(block.text):
        while i < j and block.text[i].isspace():
            i += 1
        while j > i and block.text[j - 1].isspace():
            j -= 1
        if i < j:
            start, end = block.span(i, j)
            out.append(Sentence(start=start, end=end, text=block.text[i:j]))
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
    return [
        Chunk(id=f"{article.id}@{article.version}#{n}", article_id=article.id, n=n, sentences=tuple(group))
        for n, group in enumerate(groups)
    ]
