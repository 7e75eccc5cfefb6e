"""Answer HTML: inline citation links to their cards, everything escaped, the welcome message."""

from __future__ import annotations

import datetime as dt
import re

from rag import Answer, Citation
from rag.serve.render import answer_html, linked_text, welcome_html
from rag.types import ArticleInfo

TEXT = 'Intro. The port <b>reopened</b> on "Tuesday" after the storm. Ferries run hourly.'


def citation(quote: str) -> Citation:
    start = TEXT.index(quote)
    return Citation(
        source="a.txt", title="Ports <news>", quote=quote, start=start, end=start + len(quote), article_id="a"
    )


def test_each_mark_links_to_its_card_and_shows_its_quote_on_hover() -> None:
    c1, c2 = citation('The port <b>reopened</b> on "Tuesday"'), citation("Ferries run hourly.")
    answer = Answer(question="Is the port open?", text="It reopened [1]. Ferries run [2]. See [3].", citations=(c1, c2))
    page = answer_html(answer, lambda _: TEXT, lambda _: None)
    links = re.findall(r'<a class="bq-cite" href="#([^"]+)" title="([^"]*)">\[(\d)\]</a>', page)
    assert [n for _, _, n in links] == ["1", "2"]  # [3] numbers no citation: plain text
    assert "See [3]." in page
    for target, _, n in links:
        assert f'<details class="bq-citation" id="{target}" data-n="{n}">' in page
    assert links[0][1] == "The port &lt;b&gt;reopened&lt;/b&gt; on &quot;Tuesday&quot;"  # escaped in the attribute
    assert "<b>reopened" not in page and "Ports &lt;news&gt;" in page


def test_model_text_is_escaped_before_marks_become_links() -> None:
    c = citation("Ferries run hourly.")
    html = linked_text('<img src=x onerror="alert(1)"> [1]', (c,), "bq-x")
    assert html.startswith("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; ") and html.endswith("[1]</a>")


def test_two_answers_get_different_anchors() -> None:
    c = citation("Ferries run hourly.")
    one = answer_html(Answer(question="q1", text="A [1].", citations=(c,)), lambda _: TEXT, lambda _: None)
    two = answer_html(Answer(question="q2", text="A [1].", citations=(c,)), lambda _: TEXT, lambda _: None)
    ids = [re.search(r'id="([^"]+)"', h).group(1) for h in (one, two)]  # type: ignore[union-attr]
    assert ids[0] != ids[1]


def test_the_welcome_message_says_what_the_corpus_holds() -> None:
    def info(i: int, outlet: str | None, date: dt.date | None) -> ArticleInfo:
        return ArticleInfo(
            id=str(i), source=f"{i}.txt", title="t", content_hash="h", chunks=1, outlet=outlet, date=date
        )

    articles = [
        info(1, "Kyiv Independent", dt.date(2024, 10, 28)),
        info(2, None, None),
        info(3, "Reuters", dt.date(2024, 11, 2)),
    ]
    text = welcome_html(articles)
    assert "Ask about 3 articles from Kyiv Independent, Reuters, dated 2024-10-28 to 2024-11-02." in text
    assert "click a number like [1]" in text
    assert "No articles are indexed yet" in welcome_html([])
    assert "Ask about 1 article." in welcome_html([info(2, None, None)])


def test_sources_that_disagree_are_shown_side_by_side() -> None:
    from rag.types import Disagreement

    c1, c2 = citation('The port <b>reopened</b> on "Tuesday"'), citation("Ferries run hourly.")
    c2 = Citation(source="b.txt", title="Other", quote=c2.quote, start=c2.start, end=c2.end, article_id="b")
    infos = {"a": ArticleInfo(id="a", source="a.txt", title="t", content_hash="h", chunks=1, outlet="Port News",
                              date=dt.date(2024, 3, 5))}  # fmt: skip
    sides = (Disagreement("on Tuesday", 1, "a.txt"), Disagreement("hourly", 2, "b.txt"))
    answer = Answer(question="q", text="On Tuesday [1]; hourly [2].", citations=(c1, c2), conflicts=sides)
    page = answer_html(answer, lambda _: TEXT, infos.get)
    block = page[page.index('<div class="bq-conflict">') :]
    assert block.count('<div class="bq-side">') == 2
    assert "on Tuesday" in block and "Port News · 2024-03-05" in block and "date not stated" in block
    assert re.findall(r'<a class="bq-cite" href="#[^"]+-(\d)"', block) == ["1", "2"]


def test_about_names_the_story_only_when_the_answer_stayed_with_it() -> None:
    from rag.types import Focus

    c = citation("Ferries run hourly.")  # from article "a"
    focus = Focus(articles=("a",), question="Is the port open?", answer="Yes", title="Ports")
    stayed = Answer(question="How often?", text="Hourly [1].", citations=(c,), focus=focus)
    assert "about: " in answer_html(stayed, lambda _: TEXT, lambda _: None)
    moved = Answer(
        question="What does an iPod cost?", text="£40 [1].", citations=(c,), focus=Focus(("b",), title="Ports")
    )
    assert "about: " not in answer_html(moved, lambda _: TEXT, lambda _: None)  # the answer is from another story
