"""Uploads: only files the web server received are taken, and copies never leave the corpus folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import InputError
from rag.serve.uploads import MAX_UPLOAD_BYTES, accept_upload, retire, safe_name, store_upload


@pytest.mark.parametrize(
    ("name", "expected"),
    [("report.txt", "report.txt"), ("../../etc/passwd.txt", "passwd.txt"), ("..\\..\\win.md", "win.md"),
     ("we ird name!.HTML", "we_ird_name.html"), (".hidden.txt", "hidden.txt"), ("доклад.txt", "доклад.txt"),
     ("报告 2024.md", "报告_2024.md"), ("\u202etxt.exe.txt", "txt.exe.txt")],
)  # fmt: skip
def test_safe_name_keeps_files_inside_the_corpus(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["evil.exe", "notes", "x.pdf"])
def test_safe_name_refuses_other_types(name: str) -> None:
    with pytest.raises(InputError, match="only"):
        safe_name(name)


def test_store_upload_checks_size_and_never_overwrites_other_content(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    first = tmp_path / "up" / "a.txt"
    first.parent.mkdir()
    first.write_text("one")
    assert store_upload(first, corpus) == corpus / "a.txt"
    assert store_upload(first, corpus) == corpus / "a.txt"  # same bytes: same file
    first.write_text("two")
    assert store_upload(first, corpus) == corpus / "a-2.txt"
    assert (corpus / "a.txt").read_text() == "one"
    big = tmp_path / "up" / "big.txt"
    big.write_bytes(b"x" * (MAX_UPLOAD_BYTES + 1))
    with pytest.raises(InputError, match="limit"):
        store_upload(big, corpus)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    uploads, corpus = tmp_path / "uploads", tmp_path / "corpus"
    uploads.mkdir()
    corpus.mkdir()
    return uploads, corpus


def test_accept_upload_takes_a_file_from_the_upload_folder(folders: tuple[Path, Path]) -> None:
    uploads, corpus = folders
    (uploads / "abc123").mkdir()
    received = uploads / "abc123" / "note.txt"
    received.write_text("Ferries run again.")
    assert accept_upload(str(received), uploads, corpus) == corpus / "note.txt"
    assert (corpus / "note.txt").read_text() == "Ferries run again."


def test_accept_upload_refuses_any_other_server_path(folders: tuple[Path, Path], tmp_path: Path) -> None:
    uploads, corpus = folders
    secret = tmp_path / "secret.txt"
    secret.write_text("the launch code is 7741")
    for path in (str(secret), str(uploads / ".." / "secret.txt"), "/etc/hostname"):
        with pytest.raises(InputError, match="only files uploaded"):
            accept_upload(path, uploads, corpus)
    assert list(corpus.iterdir()) == []


def test_accept_upload_refuses_a_symlink_out_of_the_upload_folder(folders: tuple[Path, Path], tmp_path: Path) -> None:
    uploads, corpus = folders
    secret = tmp_path / "secret.txt"
    secret.write_text("the launch code is 7741")
    (uploads / "link.txt").symlink_to(secret)
    with pytest.raises(InputError, match="only files uploaded"):
        accept_upload(str(uploads / "link.txt"), uploads, corpus)
    assert list(corpus.iterdir()) == []


def test_a_symlink_in_the_corpus_is_never_written_through(folders: tuple[Path, Path], tmp_path: Path) -> None:
    uploads, corpus = folders
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (corpus / "note.txt").symlink_to(outside)
    received = uploads / "note.txt"
    received.write_text("new text")
    stored = accept_upload(str(received), uploads, corpus)
    assert stored == corpus / "note-2.txt" and outside.read_text() == "keep me"


def test_retire_moves_a_corpus_file_aside_and_leaves_others(folders: tuple[Path, Path], tmp_path: Path) -> None:
    _, corpus = folders
    (corpus / "a.txt").write_text("one")
    elsewhere = tmp_path / "b.txt"
    elsewhere.write_text("two")
    assert retire(str(corpus / "a.txt"), corpus) == corpus / ".removed" / "a.txt"
    assert not (corpus / "a.txt").exists() and (corpus / ".removed" / "a.txt").read_text() == "one"
    assert retire(str(elsewhere), corpus) is None and elsewhere.exists()
