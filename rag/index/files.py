"""The index's files beside Chroma's, and what a failed write is called.

- `file_lock(settings, wait)` holds an exclusive `flock` on `index_dir/.write-lock` across
  processes (`IndexBusyError` after `wait` seconds): one writer at a time on a local index;
- `write_errors(settings)` turns a failure of Chroma, its SQLite file or the disk while writing
  into the fault it names, else `IndexWriteError`;
- `open_lexicon(settings)` opens the lexical index's SQLite file; a damaged one is deleted
  (`remove_lexicon`) and opened empty, for the store to rebuild (it is derived data).

Only `rag.index` uses them.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterator

from rag.config import Settings
from rag.errors import IndexBusyError, IndexChangedError, IndexCorruptError, IndexWriteError, storage_fault
from rag.index.chroma import lexicon_path, storage_errors, where
from rag.index.lexical import LexicalIndex
from rag.index.terms import Terms

log = logging.getLogger(__name__)


def write_errors(settings: Settings) -> contextlib.AbstractContextManager[None]:
    return storage_errors(
        settings,
        lambda e: IndexWriteError(
            f"Writing to the index at {where(settings)} failed ({type(e).__name__}: {e}). Articles "
            "written before the failure are kept and the rest are not half-written: check free disk space "
            "and permissions (or the Chroma server), then run the same ingest again."
        ),
    )


@contextlib.contextmanager
def file_lock(settings: Settings, wait: float) -> Iterator[None]:
    import fcntl

    path = settings.index_dir / ".write-lock"
    with open(path, "a+b") as f:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexBusyError(
                        f"Another process has been writing to {where(settings)} for {wait:.0f} s; try again when it is done"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def remove_lexicon(settings: Settings) -> None:
    """Delete the lexical index's files (its database and SQLite's journal files)."""
    path = lexicon_path(settings)
    for suffix in ("", "-wal", "-shm"):
        target = path.with_name(path.name + suffix)
        if target.is_dir():
            raise IndexCorruptError(f"{target} is a folder where the lexical index belongs — move it away")
        target.unlink(missing_ok=True)


def open_lexicon(settings: Settings) -> LexicalIndex:
    """The lexical index of `settings`' index folder; a damaged file is replaced by an empty one."""
    path = lexicon_path(settings)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    try:
        return LexicalIndex(path, Terms())
    except sqlite3.DatabaseError as e:
        if path.is_dir():
            raise IndexCorruptError(f"{path} is a folder where the lexical index belongs — move it away") from e
        fault = storage_fault(e, f"The lexical index {path}", "")
        if not isinstance(fault, IndexCorruptError):
            raise (fault or IndexChangedError(f"The lexical index cannot be opened ({e}); try again")) from e
        log.warning("the lexical index was damaged (%s); rebuilding it from the store", e)
        remove_lexicon(settings)
        return LexicalIndex(path, Terms())
