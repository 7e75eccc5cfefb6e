"""HTML: trafilatura's main text realigned to the original offsets, its metadata, and fragments."""

from __future__ import annotations

import datetime as dt
import html
import re

from rag.ingest.html import parse_html
from rag.ingest.read import build_article

HTML = """<!doctype html><html><head><title>Site | Page</title>
<meta property="og:title" content="Ports reopen after storm">
<meta name="author" content="Jane Roe"><meta property="og:site_name" content="Harbour News">
<meta property="article:published_time" content="2024-03-05T10:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<header>Subscribe to our newsletter</header>
<article><h1>Ports reopen after storm</h1>
<p>The port of Dover reopened on Tuesday after&nbsp;the storm, officials said.</p>
<p>Traffic is <b>back to normal</b>, AT&amp;T engineers reported.</p></article>
<script>var x = "Subscribe now";</script>
<footer>Copyright 2024</footer></body></html>"""


def test_html_parsed_with_offsets_and_metadata() -> None:
    article = build_article("p.html", HTML, "html")
    clean = article.clean_text
    assert "Home" not in clean and "Subscribe" not in clean and "Copyright" not in clean and "var x" not in clean
    assert "The port of Dover reopened on Tuesday after the storm, officials said." in clean
    assert "Traffic is back to normal, AT&T engineers reported." in clean
    assert (article.title, article.author, article.outlet, article.date) == (
        "Ports reopen after storm",
        "Jane Roe",
        "Harbour News",
        dt.date(2024, 3, 5),
    )
    para = next(b for b in article.blocks if b.text.startswith("Traffic"))
    start, end = para.span(0, len(para.text))
    assert HTML[start:end] == "Traffic is <b>back to normal</b>, AT&amp;T engineers reported."
    i = para.text.index("AT&T")
    assert HTML[slice(*para.span(i, i + 4))] == "AT&amp;T"


PAGE = """<html><head><title>Harbour News | Storm</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<div class="share">Share on <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a></div>
<article>
<h1>Storm closes the port of Dover for two days</h1>
<p>The port of Dover closed on Monday as winds of up to 120&nbsp;km/h swept the Channel, the harbour
authority said. Ferries to Calais were cancelled and lorries queued for <em>fifteen kilometres</em>
on the M20.</p>
<p>Officials expect the port to reopen on Wednesday morning if the forecast holds. &ldquo;Safety comes
first,&rdquo; a spokesperson said, adding that <a href="/x">freight</a> would be given priority.</p>
<p>The last closure of this length was in 2021, when a storm damaged the eastern docks.</p>
</article>
<div class="related"><h3>Related</h3><ul><li><a href="/a">Ten ways to save on fuel</a></li>
<li><a href="/b">Celebrity news of the week</a></li></ul></div>
</body></html>"""


def test_main_text_is_realigned_to_exact_original_offsets() -> None:
    """Each block maps back to the slice of the page it came from: that slice, tags dropped,
    entities decoded and whitespace collapsed, is the block's text."""
    doc = parse_html(PAGE)
    text = "\n".join(b.text for b in doc.blocks)
    assert "The port of Dover closed on Monday as winds of up to 120 km/h swept the Channel" in text
    assert "“Safety comes first,” a spokesperson said, adding that freight would be given priority." in text
    assert "Home" not in text and "Facebook" not in text and "Celebrity" not in text
    for block in doc.blocks:
        start, end = block.span(0, len(block.text))
        assert " ".join(html.unescape(re.sub(r"<[^>]+>", "", PAGE[start:end])).split()) == block.text


def test_a_fragment_too_small_for_extraction_is_kept_whole() -> None:
    page = "<p>Ships resumed sailing on <b>May 1</b>.</p>"
    doc = parse_html(page)
    assert [b.text for b in doc.blocks] == ["Ships resumed sailing on May 1."]
    assert page[slice(*doc.blocks[0].span(0, len(doc.blocks[0].text)))] == "Ships resumed sailing on <b>May 1</b>."


def test_page_date_from_htmldate_when_no_meta_tag() -> None:
    page = PAGE.replace("<article>", '<article><p class="date">Published 5 March 2024</p>')
    article = build_article("p.html", page, "html")
    assert article.date == dt.date(2024, 3, 5)
