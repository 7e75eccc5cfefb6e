"""Storage faults, each named for what it is, with advice that works: damaged, read-only, full, busy."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from rag import BriefingQA, Settings
from rag.errors import (
    IndexBusyError,
    IndexCorruptError,
    SessionStoreError,
    StorageFullError,
    StorageReadOnlyError,
    storage_fault,
)
from rag.index.chroma import lexicon_path
from rag.index.store import Store
from tests.fakes import HashEmbedding

ARTICLE = "Ferry fares\n\nFerry fares to Calais rose by 12 percent in March, the operator said.\n"
QUESTION = "How much did ferry fares to Calais rise?"


@pytest.fixture
def built(tmp_path: Path) -> Settings:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    BriefingQA(settings, embedder=HashEmbedding()).ingest([tmp_path / "a.txt"])
    return settings


@pytest.mark.parametrize(
    ("error", "kind", "says"),
    [
        (sqlite3.OperationalError("attempt to write a readonly database"), StorageReadOnlyError, "nothing needs deleting"),
        (OSError(errno.EROFS, "Read-only file system"), StorageReadOnlyError, "cannot be written by this user"),
        (OSError(errno.EACCES, "Permission denied"), StorageReadOnlyError, "BRIEFING_INDEX_DIR"),
        (sqlite3.OperationalError("database or disk is full"), StorageFullError, "Free some space"),
        (OSError(errno.ENOSPC, "No space left on device"), StorageFullError, "nothing needs deleting"),
        (sqlite3.DatabaseError("database disk image is malformed"), IndexCorruptError, "--rebuild"),
        (sqlite3.OperationalError("database is locked"), IndexBusyError, "Try again"),
    ],
)  # fmt: skip
def test_each_storage_fault_is_named_with_advice_that_fits(error: Exception, kind: type, says: str) -> None:
    fault = storage_fault(error, "The index at index/", "Build it again: briefing ingest --rebuild DIR")
    assert isinstance(fault, kind) and says in str(fault)
    assert "changing" not in str(fault)
    assert storage_fault(ValueError("something else"), "The index at index/", "") is None


def test_a_damaged_index_says_so_and_its_rebuild_works(built: Settings, tmp_path: Path) -> None:
    with open(built.index_dir / "chroma.sqlite3", "r+b") as f:
        f.write(b"not a database" * 100)
    with pytest.raises(IndexCorruptError, match="damaged.*--rebuild"):
        BriefingQA.open(built.index_dir, settings=built, embedder=HashEmbedding())
    (built.index_dir / "notes.txt").write_text("mine", encoding="utf-8")
    Store.delete_index(built)  # what `briefing ingest --rebuild` does first: it works on a damaged index
    qa = BriefingQA(built, embedder=HashEmbedding())
    qa.ingest([tmp_path / "a.txt"])
    assert "12 percent" in qa.ask(QUESTION).text
    assert (built.index_dir / "notes.txt").read_text(encoding="utf-8") == "mine"  # only Chroma's files went


def test_a_damaged_lexical_index_is_rebuilt_from_the_store(built: Settings) -> None:
    path = lexicon_path(built)
    path.write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    qa = BriefingQA.open(built.index_dir, settings=built, embedder=HashEmbedding())
    assert "12 percent" in qa.ask(QUESTION).text


def test_a_full_disk_while_writing_is_named_and_reads_go_on(
    built: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    qa = BriefingQA(built, embedder=HashEmbedding())
    store = qa._index.store

    def full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store._chunks, "upsert", full)
    (tmp_path / "b.txt").write_text("Rail fares\n\nRail fares rose by 3 percent in January.\n", encoding="utf-8")
    with pytest.raises(StorageFullError, match="Free some space"):
        qa.ingest([tmp_path / "b.txt"])
    monkeypatch.undo()
    assert "12 percent" in qa.ask(QUESTION).text  # what was there is kept and readable


def test_a_damaged_session_store_is_the_projects_error(built: Settings) -> None:
    (built.index_dir / "sessions.sqlite3").write_bytes(b"garbage" * 1000)
    qa = BriefingQA(built, embedder=HashEmbedding())
    with pytest.raises(SessionStoreError, match="Move .*sessions.sqlite3 away.*index is not affected"):
        qa.chat().ask(QUESTION)
    assert "12 percent" in qa.ask(QUESTION).text


def test_paths_in_the_wrong_shape_are_named_and_a_broken_schema_rebuilds(built: Settings, tmp_path: Path) -> None:
    import shutil
    import sqlite3 as sql

    with sql.connect(built.index_dir / "chroma.sqlite3") as con:  # a damaged schema
        con.execute("DROP TABLE embedding_metadata")
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    with pytest.raises(IndexCorruptError, match="damaged.*--rebuild"):
        BriefingQA.open(built.index_dir, settings=built, embedder=HashEmbedding()).ask(QUESTION)
    Store.delete_index(built)
    qa = BriefingQA(built, embedder=HashEmbedding())
    qa.ingest([tmp_path / "a.txt"])
    assert "12 percent" in qa.ask(QUESTION).text

    lexicon = lexicon_path(built)
    for suffix in ("", "-wal", "-shm"):
        lexicon.with_name(lexicon.name + suffix).unlink(missing_ok=True)
    lexicon.mkdir()  # a folder where the lexical index belongs
    with pytest.raises(IndexCorruptError, match="is a folder .* move it away"):
        BriefingQA.open(built.index_dir, settings=built, embedder=HashEmbedding()).ask(QUESTION)
    with pytest.raises(IndexCorruptError, match="move it away"):
        Store.delete_index(built)  # --rebuild says what to move, never a traceback
    shutil.rmtree(lexicon)

    as_file = tmp_path / "not-a-folder"
    as_file.write_text("x", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="is a file, not an index folder"):
        BriefingQA.open(as_file, settings=built.with_(index_dir=as_file), embedder=HashEmbedding())
    with pytest.raises(IndexCorruptError, match="is a file"):
        Store.delete_index(built.with_(index_dir=as_file))
