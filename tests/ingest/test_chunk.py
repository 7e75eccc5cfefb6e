"""Sentence splitting and chunking keep exact original offsets."""

from __future__ import annotations

import pytest

from rag.ingest.chunk import chunk_article, sentences
from rag.ingest.read import build_article
from rag.types import Block


def test_hand_checked_offsets() -> None:
    """Offsets worked out by hand.

    Text: "Skip to content\\n\\nOil rose 5% on Monday. Prices fell later.\\n"
    "Skip to content" (0–15) is boilerplate; the paragraph starts at 17.
    "Oil rose 5% on Monday." is 22 characters → [17, 39); a space at 39;
    "Prices fell later." is 18 characters → [40, 58).
    """
    text = "Skip to content\n\nOil rose 5% on Monday. Prices fell later.\n"
    article = build_article("h.txt", text, "text")
    got = [(s.start, s.end, s.text) for s in sentences(article)]
    assert got == [(17, 39, "Oil rose 5% on Monday."), (40, 58, "Prices fell later.")]


EDGE_TEXTS = {
    "one sentence": "Only one sentence here without a final stop",
    "unicode": "Київ, 3 травня. Émile said “yes” — 👍 twice. Done.",
    "crlf": "First line is here.\r\nSecond line is here.\r\n\r\nNew paragraph, Oct. 28 was the date.",
    "quotes": '"Is it over?" asked Ann. "Yes!" he said.\r\n\r\n"Why?" nobody knew.',
    "abbrev": "Dr. Smith met Mr. Jones on Oct. 28 in the U.S. capital. They talked.",
    "long": " ".join(f"Sentence number {i} talks about shipments." for i in range(80)),
}


@pytest.mark.parametrize("name", sorted(EDGE_TEXTS))
@pytest.mark.parametrize("max_chars", [100, 700])
def test_sentences_and_chunks_map_to_original_text(name: str, max_chars: int) -> None:
    text = EDGE_TEXTS[name]
    article = build_article(f"{name}.txt", text, "text")
    chunks = chunk_article(article, max_chars)
    assert chunks, name
    flat = [s for c in chunks for s in c.sentences]
    assert flat == sentences(article)
    for s in flat:
        assert text[s.start : s.end] == s.text
        assert s.text == s.text.strip()
    for n, c in enumerate(chunks):
        assert c.id == f"{article.id}@{article.version}#{n}"
        assert len(c.text) <= max_chars or len(c.sentences) == 1
    starts = [s.start for s in flat]
    assert starts == sorted(starts)


def test_sentences_never_cross_paragraphs() -> None:
    article = build_article("p.txt", "No stop at the end\n\nNext paragraph starts here.", "text")
    assert [s.text for s in sentences(article)] == ["No stop at the end", "Next paragraph starts here."]


def test_abbreviations_do_not_split() -> None:
    article = build_article("a.txt", EDGE_TEXTS["abbrev"], "text")
    assert [s.text for s in sentences(article)] == [
        "Dr. Smith met Mr. Jones on Oct. 28 in the U.S. capital.",
        "They talked.",
    ]


def test_quoted_speech_keeps_its_attribution() -> None:
    text = 'He spoke. "Aren\'t we clever?" said the comedian. "Why now?" He left. Stop! the crowd cried.'
    article = build_article("q.txt", text, "text")
    assert [s.text for s in sentences(article)] == [
        "He spoke.",
        '"Aren\'t we clever?" said the comedian.',  # not a quote of its own that names no one
        '"Why now?"',  # the next sentence starts in capitals: a sentence of its own
        "He left.",
        "Stop! the crowd cried.",
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences(article))


def test_block_span_checks_bounds() -> None:
    block = Block(start=10, end=15, text="hello")
    assert block.span(1, 3) == (11, 13)
    with pytest.raises(ValueError):
        block.span(3, 3)
    with pytest.raises(ValueError):
        chunk_article(build_article("x.txt", "Hi there.", "text"), 0)
