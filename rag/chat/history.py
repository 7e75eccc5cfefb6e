"""Conversation history: bounded, persisted per session id in SQLite inside the index folder.

One table of turns keyed by (session id, turn number), each with the ids of the articles its
answer cited (what the conversation is about: `rag.types.Focus`). Every call opens its own connection
(WAL mode, busy timeout), so several sessions — threads or processes — can write at once.
Only the last `max_turns` turns of a session are kept. This module does not rewrite or answer.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import InputError, SessionStoreError, storage_fault
from rag.types import Turn

_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    session TEXT NOT NULL,
    n INTEGER NOT NULL,
    question TEXT NOT NULL,
    standalone TEXT NOT NULL,
    answer TEXT NOT NULL,
    short_answer TEXT NOT NULL DEFAULT '',
    abstained INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    articles TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (session, n)
)
"""


class History:
    def __init__(self, path: Path, max_turns: int = 20) -> None:
        if max_turns < 1:
            raise ValueError(f"max_turns must be at least 1, got {max_turns}")
        self.path = path
        self.max_turns = max_turns

        self._ready = False

    def _setup(self, con: sqlite3.Connection) -> None:
        """WAL mode and the table, once per object. Switching the journal mode can fail at once
        with "database is locked" while another connection sets up the same new file (the busy
        timeout does not cover it), so that step is retried briefly."""
        for attempt in range(100):
            try:
                con.execute("PRAGMA journal_mode=WAL")
                con.execute(_SCHEMA)
                columns = {row[1] for row in con.execute("PRAGMA table_info(turns)")}
                if "articles" not in columns:  # a store written before conversations had a focus
                    con.execute("ALTER TABLE turns ADD COLUMN articles TEXT NOT NULL DEFAULT '[]'")
                self._ready = True
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or attempt == 99:
                    raise
                time.sleep(0.02)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection; SQLite's and the file system's faults come out as the project's errors."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                if not self._ready:
                    self._setup(con)
                yield con
            finally:
                con.close()
        except (sqlite3.Error, OSError) as e:
            damaged = f"Move {self.path} away: the conversations saved in it are lost, the index is not affected."
            raise storage_fault(e, f"The conversation store {self.path}", damaged, sessions=True) or SessionStoreError(
                f"The conversation store {self.path} cannot be used ({type(e).__name__}: {e}). {damaged}"
            ) from e

    def turns(self, session: str) -> list[Turn]:
        with self._db() as con:
            rows = con.execute(
                "SELECT question, standalone, answer, short_answer, abstained, articles FROM turns"
                " WHERE session = ? ORDER BY n",
                (_check(session),),
            ).fetchall()
        return [Turn(q, s, a, sa, bool(ab), _articles(ids)) for q, s, a, sa, ab, ids in rows]

    def append(self, session: str, turn: Turn) -> None:
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                (n,) = con.execute(
                    "SELECT COALESCE(MAX(n), -1) + 1 FROM turns WHERE session = ?", (_check(session),)
                ).fetchone()
                con.execute(
                    "INSERT INTO turns (session, n, question, standalone, answer, short_answer, abstained, created,"
                    " articles) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (session, n, turn.question, turn.standalone_question, turn.answer, turn.short_answer,
                     int(turn.abstained), time.time(), json.dumps(list(turn.articles))),
                )  # fmt: skip
                con.execute("DELETE FROM turns WHERE session = ? AND n <= ?", (session, n - self.max_turns))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def clear(self, session: str) -> None:
        with self._db() as con:
            con.execute("DELETE FROM turns WHERE session = ?", (_check(session),))


def _articles(stored: str) -> tuple[str, ...]:
    """A turn's cited article ids as stored (JSON); anything else reads as none."""
    try:
        ids = json.loads(stored)
    except (TypeError, ValueError):
        return ()
    return tuple(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else ()


def _check(session: str) -> str:
    if not isinstance(session, str) or not session.strip() or len(session) > 200:
        raise InputError("A session id must be non-empty text of at most 200 characters")
    return session
