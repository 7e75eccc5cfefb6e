"""Quote verification and exact re-location."""

from __future__ import annotations

from rag.query.verify import locate, same_text, verified
from rag.types import Citation

TEXT = "He said: “the route is safe again.”\nOfficials  agreed."


def test_verified_keeps_only_exact_quotes() -> None:
    good = Citation("s", "t", "Officials  agreed.", TEXT.index("Officials"), len(TEXT), article_id="a")
    shifted = Citation("s", "t", "Officials  agreed.", 0, 18, article_id="a")
    unknown = Citation("s", "t", "x", 0, 1, article_id="b")
    assert verified([good, shifted, unknown], {"a": TEXT}) == [good]


def test_locate_exact_and_after_whitespace_and_quote_normalisation() -> None:
    assert locate(TEXT, "Officials  agreed.") == (TEXT.index("Officials"), len(TEXT))
    start, end = locate(TEXT, '"the route is safe again."\nOfficials agreed.')
    assert TEXT[start:end] == "“the route is safe again.”\nOfficials  agreed."


def test_locate_refuses_paraphrase() -> None:
    assert locate(TEXT, "the road is safe again") is None
    assert locate(TEXT, "   ") is None


def test_same_text_sees_through_markup() -> None:
    assert same_text("is <b>back</b> &amp; fine", "is back & fine")
    assert not same_text("is <b>back</b>", "is gone")
