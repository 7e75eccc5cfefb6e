"""Hostile and careless files: each is skipped or read within bounds, with its reason, and never
costs the other files of the run anything."""

from __future__ import annotations

import os
import string
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from rag import BriefingQA, Settings
from rag.ingest.chunk import MAX_SENTENCE_CHARS, chunk_article
from rag.ingest.read import MAX_META_CHARS, MAX_TEXT_CHARS, read_article


def _alias_bomb(levels: int = 9) -> str:
    """YAML front matter whose aliases expand to 9**levels strings when turned into text."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, levels):
        lines.append(f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]")
    lines.append(f"title: *a{levels - 1}")
    lines.append(f"author: *a{levels - 1}")
    return "---\n" + "\n".join(lines) + "\n---\n"


GOOD = "Bridge opens in {town}\n\nThe {town} bridge opened on Monday. It cost {n} million pounds to build.\n"

HOSTILE = {
    # what each file is, and the start of the reason it is skipped (None: it is read, within bounds)
    "alias_bomb.md": (_alias_bomb() + "The harbour reopened after the storm.\n", None),
    "no_sentence_end.txt": ("Report\n\n" + "word " * 30_000, None),
    "too_long.txt": ("Long report\n\n" + "The committee met again. " * (MAX_TEXT_CHARS // 25 + 10), "too long"),
    "utf16.txt": ("\ufeffMeeting notes\n\nThe meeting began at noon.\n".encode("utf-16-le"), "UTF-16"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    "empty.md": ("", "empty"),
    "latin1.txt": ("Caf\xe9 owners met on Monday.".encode("latin-1"), "not UTF-8"),
    "huge_meta.md": ("---\ntitle: " + "Very long title " * 2000 + "\n---\nThe vote was held on Friday.\n", None),
}


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_each_hostile_file_is_bounded_or_skipped_with_its_reason(fake_qa: BriefingQA, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, (content, _) in HOSTILE.items():
        _write(folder, name, content)
    _write(folder, "good.txt", GOOD.format(town="Oslo", n=12))
    report = fake_qa.ingest([folder])
    reasons = {Path(s.source).name: s.reason for s in report.skipped}
    for name, (_, reason) in HOSTILE.items():
        if reason is None:
            assert name not in reasons, reasons.get(name)
        else:
            assert reason in reasons[name], reasons[name]
    titles = {Path(a.source).name: a for a in fake_qa.articles()}
    assert set(titles) == {"good.txt", "alias_bomb.md", "no_sentence_end.txt", "huge_meta.md"}
    for info in titles.values():
        assert len(info.title) <= MAX_META_CHARS["title"] and len(info.author or "") <= MAX_META_CHARS["author"]
    assert titles["alias_bomb.md"].author is None  # aliases are not read: the front matter says nothing
    answer = fake_qa.ask("How much did the Oslo bridge cost to build?")
    assert answer.citations and answer.citations[0].source.endswith("good.txt"), answer.text


def test_a_file_without_a_sentence_end_is_read_in_bounded_pieces(tmp_path: Path) -> None:
    path = _write(tmp_path, "wall.txt", "Wall of text\n\n" + "x" * 5000 + " " + "word " * 50_000)
    chunks = chunk_article(read_article(str(path)))
    text = path.read_text(encoding="utf-8")
    sentences = [s for c in chunks for s in c.sentences]
    assert max(len(s.text) for s in sentences) <= MAX_SENTENCE_CHARS
    assert all(text[s.start : s.end] == s.text for s in sentences)  # offsets stay exact


def test_links_pipes_and_folders_in_a_corpus_are_reported_not_followed(fake_qa: BriefingQA, tmp_path: Path) -> None:
    outside = _write(tmp_path, "secret.txt", "Secret\n\nThe password is swordfish.\n")
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write(folder, "good.txt", GOOD.format(town="Bergen", n=7))
    (folder / "leak.txt").symlink_to(outside)
    (folder / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (folder / "inside.txt").symlink_to(folder / "good.txt")  # a link within the folder is read
    os.mkfifo(folder / "pipe.txt")
    report = fake_qa.ingest([folder])
    reasons = {Path(s.source).name: s.reason for s in report.skipped}
    assert "outside the folder" in reasons["leak.txt"]
    assert "broken link" in reasons["dangling.txt"]
    assert "not a regular file" in reasons["pipe.txt"]
    assert {Path(a.source).name for a in fake_qa.articles()} == {"good.txt", "inside.txt"}
    assert "not a regular file" in fake_qa.ingest([folder / "pipe.txt"]).skipped[0].reason  # named directly: no hang


def test_a_page_with_no_date_gets_none_from_its_scripts(tmp_path: Path) -> None:
    data = "QUJDRA" * 400 + "v=20080101&t=2011-05-03"
    page = (
        "<html><head><title>Bridge plan</title><script>var blob='" + data + "';</script></head><body><article>"
        "<h1>Bridge plan</h1><p>" + "The council met to discuss the new bridge over the river. " * 6 + "</p>"
        "<img src='data:image/png;base64," + data + "'></article></body></html>"
    )
    article = read_article(str(_write(tmp_path, "page.html", page)))
    assert article.title == "Bridge plan" and article.date is None


_kinds = st.sampled_from(["good", *HOSTILE])


@pytest.fixture(scope="module")
def encoder() -> object:
    """The bundled MiniLM, loaded once for the module."""
    return BriefingQA(Settings()).embedder


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_kinds, min_size=2, max_size=7))
def test_every_good_file_is_answerable_whatever_is_mixed_in(
    tmp_path_factory: pytest.TempPathFactory, encoder: object, kinds: list[str]
) -> None:
    root = tmp_path_factory.mktemp("mix")
    qa = BriefingQA(Settings(index_dir=root / "index"), embedder=encoder)
    folder = root / "corpus"
    folder.mkdir()
    towns = {}
    for k, kind in enumerate(kinds):
        if kind == "good":
            town = "".join(string.ascii_uppercase[(k * 7 + i) % 26] for i in range(3)) + "ville"
            towns[_write(folder, f"good{k}.txt", GOOD.format(town=town, n=k + 3)).name] = town
        else:
            _write(folder, f"{k}_{kind}", HOSTILE[kind][0])
    report = qa.ingest([folder])
    assert len(report.added) + len(report.skipped) == len(kinds)
    for name, town in towns.items():
        answer = qa.ask(f"How much did the {town} bridge cost to build?")
        assert any(Path(c.source).name == name for c in answer.citations), answer.text


def test_names_front_matter_and_titles_that_once_broke_a_run(fake_qa: BriefingQA, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write(folder, "good.txt", GOOD.format(town="Tromso", n=9))
    os.makedirs(os.fsencode(folder / "sub"), exist_ok=True)
    with open(os.fsencode(folder) + b"/bad\xffname.txt", "wb") as f:  # a name that is not UTF-8
        f.write(b"The Yarrow pass closed.\n")
    _write(
        folder, "bad_date.md", "---\ntitle: Pass report\ndate: 2024-02-30\n---\n\nThe Yarrow pass closed on Monday.\n"
    )
    _write(folder, "deep.md", "---\ntitle: " + "[" * 3000 + "]" * 3000 + "\n---\n\nThe Ulla ferry sank on Monday.\n")
    _write(folder, "a\\b.txt", "Mill\n\nThe Pondo mill grinds 11 tonnes daily.\n")  # a backslash is part of a name
    (folder / "a").mkdir()
    _write(folder / "a", "b.txt", "Quarry\n\nThe Rusk quarry employs 22 workers.\n")
    _write(folder, "bell.txt", "Bells\x07\x1b[31m ring \u202eout\n\nThe bells rang at noon on Sunday.\n")
    _write(folder, "bom.md", "\ufeff---\ntitle: Harbour news\nauthor: Ann Lee\n---\n\nThe harbour reopened.\n")
    report = fake_qa.ingest([folder])
    reasons = {Path(os.fsdecode(s.source)).name: s.reason for s in report.skipped}
    assert list(reasons.values()) == ["its name is not valid UTF-8 text — rename the file"], reasons
    infos = {Path(a.source).name: a for a in fake_qa.articles()}
    assert infos["bad_date.md"].title == "Pass report" and infos["bad_date.md"].date is None
    assert "Ulla" in fake_qa.article_text(infos["deep.md"].id)
    assert len({a.id for a in fake_qa.articles()}) == 7  # a\b.txt and a/b.txt are two articles
    assert infos["bell.txt"].title.isprintable() and "\u202e" not in infos["bell.txt"].title
    assert (infos["bom.md"].title, infos["bom.md"].author) == ("Harbour news", "Ann Lee")
    answer = fake_qa.ask("How much did the Tromso bridge cost to build?")
    assert answer.citations and answer.citations[0].source.endswith("good.txt")
