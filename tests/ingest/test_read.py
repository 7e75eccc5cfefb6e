"""Reading and cleaning articles: formats, boilerplate, metadata, bad files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rag import BriefingQA
from rag.errors import InputError, SkipFile
from rag.ingest.read import article_id, build_article, discover, fallback_title, read_article
from tests.conftest import SEEDS

BOILERPLATE = [
    "Subscribe",
    "indicates required",
    "Enter your email",
    "Skip to content",
    "Edit post",
    "News Feed",
    "MORE NEWS",
    "Editors' Picks",
    "Successfuly subscribed",
    "Explaining Ukraine with Kate Tsurkan",
    "This audio is created with AI assistance",
    "Surging government spen",
    "wartime economy delivers growth",
]


def test_seed_boilerplate_is_removed_and_article_text_kept() -> None:
    article = read_article(str(SEEDS / "001_72b694fcf48b8cdc.txt"))
    clean = article.clean_text
    for phrase in BOILERPLATE:
        assert phrase not in clean, phrase
    for phrase in [
        "But even the minimum estimate of shipments is over $1.7 billion, the study reads.",
        "Olena Guseinova, the study's author, said.",
        "Russia aims to pressure countries like South Korea and Japan",
    ]:
        assert phrase in clean, phrase


def test_seed_metadata_from_headline_and_byline() -> None:
    article = read_article(str(SEEDS / "001_72b694fcf48b8cdc.txt"))
    assert article.title.startswith("North Korea's current arms sales to Russia estimated at up to $5.5 billion")
    assert article.author == "Kateryna Hodunova"
    assert article.date == dt.date(2024, 10, 28)


@pytest.mark.parametrize("name", sorted(p.name for p in SEEDS.iterdir()))
def test_every_block_is_verbatim_original_text(name: str) -> None:
    article = read_article(str(SEEDS / name))
    assert article.blocks
    for b in article.blocks:
        assert article.text[b.start : b.end] == b.text


def test_crlf_and_hard_wrapped_lines_join_into_one_paragraph() -> None:
    text = "Headline of the piece here\r\n\r\nThe first sentence is\r\nwrapped over two lines. Second one.\r\n"
    article = build_article("a.txt", text, "text")
    assert [b.text for b in article.blocks][-1] == "The first sentence is\r\nwrapped over two lines. Second one."
    assert article.title == "Headline of the piece here"


def test_markdown_front_matter_and_markers() -> None:
    text = "---\ntitle: Grain deal talks\nauthor: A. Writer\ndate: 2024-05-02\noutlet: Example Times\n---\n# Grain deal talks\n\n- Ships resumed sailing on May 1.\n"
    article = build_article("x.md", text, "markdown")
    assert (article.title, article.author, article.date, article.outlet) == (
        "Grain deal talks",
        "A. Writer",
        dt.date(2024, 5, 2),
        "Example Times",
    )
    assert "---" not in article.clean_text and "title:" not in article.clean_text
    assert any(b.text == "Ships resumed sailing on May 1." for b in article.blocks)


def test_front_matter_that_is_not_yaml_is_cut_and_says_nothing() -> None:
    text = "---\ntitle: [unclosed\n---\nShips resumed sailing on May 1, officials said.\n"
    article = build_article("x.md", text, "markdown")
    assert [b.text for b in article.blocks] == ["Ships resumed sailing on May 1, officials said."]
    assert article.author is None and "unclosed" not in article.title


@pytest.mark.parametrize(
    ("value", "date"),
    [("2024-05-02", dt.date(2024, 5, 2)), ("May 2, 2024", dt.date(2024, 5, 2)), ("2 May 2024", dt.date(2024, 5, 2)),
     ("sometime in May", None)],
)  # fmt: skip
def test_front_matter_dates_in_any_common_form(value: str, date: dt.date | None) -> None:
    article = build_article("x.md", f"---\ndate: '{value}'\n---\nShips resumed sailing, officials said.\n", "markdown")
    assert article.date == date


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"   \n\t\n", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("Caf\u00e9 au lait, d\u00e9j\u00e0 vu.".encode("latin-1"), "not UTF-8"),
        (b"Subscribe\nSubscribe\n* indicates required\n", "no article text"),
    ],
)
def test_unreadable_files_are_skipped_with_a_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(SkipFile, match=reason):
        read_article(str(path))


def test_unicode_text_keeps_offsets(tmp_path: Path) -> None:
    text = "Київ — the capital — said “hello”. Émile agreed 👍 on 3 May 2024.\n"
    (tmp_path / "u.txt").write_text(text, encoding="utf-8")
    article = read_article(str(tmp_path / "u.txt"))
    assert article.text == text
    assert article.blocks[0].text == text.strip()


def test_discover_expands_folders_and_reports_unsupported(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b.md").write_text("x")
    (tmp_path / "d" / "a.txt").write_text("x")
    (tmp_path / "d" / "c.pdf").write_bytes(b"%PDF")
    (tmp_path / "d" / ".hidden.txt").write_text("x")
    files, skipped = discover([tmp_path / "d"])
    assert [Path(f).name for f in files] == ["a.txt", "b.md"]
    assert [(Path(s).name, r) for s, r in skipped] == [("c.pdf", "unsupported file type .pdf")]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No such file or folder: .*nope"):
        discover([tmp_path / "nope"])
    with pytest.raises(InputError, match="Nothing to ingest"):
        discover([])


def test_article_ids_are_readable_stable_and_unique_per_path() -> None:
    assert article_id("seeds/001_x.txt") == "seeds-001_x"
    assert article_id("./seeds/001_x.txt") == "seeds-001_x"
    assert article_id("новости/статья.txt") == "новости-статья"  # any script is readable as it is
    # where the readable part could stand for another path, a short hash of the path follows it
    assert article_id("a b/c?.md").startswith("a-b-c~")
    paths = ["a b.txt", "a-b.txt", "a_b.txt", "a/b.txt", "a-b.md", "a.b.txt", "../a b.txt", "a  b.txt",
             "新闻/文章一.md", "新闻/文章二.md", "seeds-001_x.txt", "seeds/001_x.txt", "x.txt", "x.md", "x.html"]  # fmt: skip
    ids = [article_id(p) for p in paths]
    assert len(set(ids)) == len(paths), ids
    assert ids == [article_id(p) for p in paths]  # stable: a function of the path alone


def test_files_whose_names_differ_only_in_punctuation_are_two_articles(fake_qa: BriefingQA, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a b.txt").write_text("Bridge opens\n\nThe bridge opened on Monday after two years of work.\n")
    (folder / "a-b.txt").write_text("Library closes\n\nThe library closed on Friday because of flooding.\n")
    (folder / "доклад.txt").write_text("Rail strike\n\nTrain drivers walked out over pay on Thursday.\n")
    (folder / "报告.txt").write_text("Port reopens\n\nThe port reopened after the storm on Sunday.\n")
    report = fake_qa.ingest([folder])
    assert len(report.added) == 4 and not report.skipped
    assert fake_qa.ingest([folder / "a-b.txt"]).unchanged  # ingesting one later replaces nothing else
    assert len(fake_qa.articles()) == 4


def test_an_article_indexed_under_its_old_id_moves_to_its_new_one(
    fake_qa: BriefingQA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.ingest import read

    (tmp_path / "a-b.txt").write_text("Library closes\n\nThe library closed on Friday because of flooding.\n")
    with monkeypatch.context() as m:
        m.setattr(read, "article_id", read.legacy_id)  # as an earlier version indexed it
        assert fake_qa.ingest(["a-b.txt"]).added == ("a-b",)
    report = fake_qa.ingest(["a-b.txt"])
    assert report.updated == (article_id("a-b.txt"),) and [a.id for a in fake_qa.articles()] == [article_id("a-b.txt")]
    answer = fake_qa.ask("Why did the library close?")
    assert answer.citations and answer.citations[0].article_id == article_id("a-b.txt")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_files_give_offsets_that_text_mode_reading_satisfies(
    fake_qa: BriefingQA, tmp_path: Path, newline: str
) -> None:
    """The documented contract, `open(source, encoding="utf-8").read()[start:end] == quote`, reads  # noqa: SIM115 - the documented contract, verbatim
    with universal newlines; offsets are defined on that text, so it holds for CRLF and CR files."""
    lines = ["Port of Dover reopens", "", "by Jane Roe March 5, 2024", "",
             "The port of Dover reopened on Tuesday after the storm, officials said.",
             "Ferries to Calais now run every 45 minutes.", ""]  # fmt: skip
    path = tmp_path / "dover.txt"
    path.write_bytes(newline.join(lines).encode("utf-8"))
    assert newline.encode() in path.read_bytes()
    fake_qa.ingest([path])
    answer = fake_qa.ask("How often do ferries to Calais run?")
    assert answer.citations and not answer.abstained
    for c in answer.citations:
        assert open(c.source, encoding="utf-8").read()[c.start : c.end] == c.quote  # noqa: SIM115 - the documented contract, verbatim
    assert fake_qa.article_text(answer.citations[0].article_id) == open(path, encoding="utf-8").read()  # noqa: SIM115 - the documented contract, verbatim


@pytest.mark.parametrize("paths", [None, [123], 42, [b"seeds"], ["ok", None]])
def test_ingest_of_something_that_is_not_paths_is_an_input_error(fake_qa: BriefingQA, paths: object) -> None:
    with pytest.raises(InputError, match="path"):
        fake_qa.ingest(paths)  # type: ignore[arg-type]


def test_the_byline_is_found_with_exact_offsets_and_its_author_and_date_marked() -> None:
    article = read_article(str(SEEDS / "001_72b694fcf48b8cdc.txt"))
    b = article.byline
    assert b is not None and article.text[b.start : b.end] == b.text
    assert b.text.startswith("by Kateryna Hodunova")
    assert [(b.text[e.start : e.end], e.label) for e in b.entities] == [
        ("Kateryna Hodunova", "PERSON"),
        ("October 28, 2024", "DATE"),
    ]
    assert read_article(str(SEEDS / "000_6e0421ff0139360f.txt")).byline is None  # no author, no date


@pytest.mark.parametrize(
    ("text", "kind", "quote", "marked"),
    [
        ("---\nauthor: A. Writer\ndate: 2024-05-02\n---\nShips sailed.\n", "markdown", "author: A. Writer", ["PERSON"]),
        ("---\ntitle: Grain talks\ndate: 2024-05-02\n---\nShips sailed.\n", "markdown", "date: 2024-05-02", ["DATE"]),
    ],
)
def test_a_byline_is_the_line_that_names_the_author_or_states_the_date(
    text: str, kind: str, quote: str, marked: list[str]
) -> None:
    from rag.ingest.read import find_byline

    article = build_article("x.md" if kind == "markdown" else "x.txt", text, kind)
    b = find_byline(text, article.author, article.date, article.outlet)
    assert b is not None and text[b.start : b.end] == b.text == quote
    assert [e.label for e in b.entities] == marked


def test_an_author_named_only_inside_a_long_line_is_cited_as_the_name_alone() -> None:
    from rag.ingest.read import find_byline

    text = "<html><head>" + "x" * 400 + '<meta name="author" content="Ann Lee"></head></html>'
    b = find_byline(text, "Ann Lee", None, None)
    assert b is not None and (b.text, text[b.start : b.end]) == ("Ann Lee", "Ann Lee")
    assert find_byline("Nothing here.", "Ann Lee", None, None) is None


def test_the_byline_statement_claims_only_what_the_byline_says() -> None:
    from rag.ingest.read import byline_statement

    day = dt.date(2024, 10, 28)
    assert byline_statement("Arms sales.", "Ann Lee", day, None) == (
        "Arms sales. This article was written by Ann Lee on October 28, 2024. Its author is Ann Lee."
    )
    assert byline_statement("T", None, day, "Example Times") == (
        "T. This article was dated October 28, 2024 and published by Example Times."
    )
    assert byline_statement("T", None, None, None) == ""


def test_a_headline_less_article_is_titled_by_its_first_clause() -> None:
    long = (
        "A recent study by the Friedrich Naumann Foundation has revealed that arms sales have surged, "
        "with estimates reaching up to $5.5 billion as the war goes on. Second sentence."
    )
    assert fallback_title(long) == (
        "A recent study by the Friedrich Naumann Foundation has revealed that arms sales have surged"
    )
    assert fallback_title("Short first sentence. Another one.") == "Short first sentence."
    unbroken = "word " * 40
    assert fallback_title(unbroken).endswith("word…") and len(fallback_title(unbroken)) <= 121


def test_a_derived_title_is_marked_and_kept_out_of_what_bm25_searches() -> None:
    from rag.index.records import lexical_row

    bare = build_article("a.txt", "Ferries resumed on Tuesday after the storm. Crews cleared the port.\n", "text")
    headed = build_article(
        "b.md", "# Port of Dover reopens after the storm\n\nFerries resumed on Tuesday after the storm.\n", "markdown"
    )
    assert bare.title_derived and bare.title == "Ferries resumed on Tuesday after the storm."
    assert not headed.title_derived and headed.title == "Port of Dover reopens after the storm"
    meta = {"article_id": "a", "title": bare.title, "title_derived": True}
    assert lexical_row("a#0", meta, "body").text.split() == ["body"]
    assert lexical_row("b#0", {**meta, "title_derived": False}, "body").text.split()[-1] == "body"
    assert "Ferries" in lexical_row("b#0", {**meta, "title_derived": False}, "body").text


@pytest.mark.parametrize(
    "headline",
    ["Labour chooses Manchester", "Profile: David Miliband", "Call centre users 'lose patience'",
     "Honda wins China copyright ruling", "Is the euro worth it?"],
)  # fmt: skip
def test_a_headline_standing_alone_on_the_first_line_is_the_title(headline: str) -> None:
    text = (
        f"{headline}\n\nThe party confirmed its plans on Tuesday after a long debate.\n\n"
        "- call centre operations are part of their business, officials said\n"
    )
    article = build_article("a.txt", text, "text")
    assert article.title == headline and not article.title_derived


def test_a_list_item_or_a_sentence_is_never_a_title() -> None:
    text = "- call centre operations are part of their business\n\nCustomers are impatient, a study said.\n"
    assert build_article("a.txt", text, "text").title == "Customers are impatient, a study said."
    for line in ("Skip to content", "By Jane Roe", "The talks ended on Friday, officials said."):
        article = build_article("a.txt", f"{line}\n\nThe bridge opened on Monday after two years of work.\n", "text")
        assert article.title_derived  # the first sentence of the text stands in, marked as such
