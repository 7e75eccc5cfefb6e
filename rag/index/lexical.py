"""The lexical index: BM25 over chunk terms in SQLite FTS5, on disk beside Chroma's files.

Why not bm25s in memory, as before: it was rebuilt from every chunk of the store at open and
after every ingest (12 s + 8 s at 100k chunks, ~30 KB of memory per chunk, fragmenting a
long-lived server); Chroma's own sparse index is not available in local mode. An FTS5 table is
updated per article inside the ingest that writes it, opened without reading any chunk, and
shared by every process on the machine through SQLite's WAL.

- `chunks`: one row per chunk (id, article, version, source, date) and its **terms**: the
  chunk's title and text split, lower-cased and stemmed by `rag.query.retrieve.Terms`' rules
  (passed in as `terms`), joined by spaces; the FTS5 table `fts` indexes them (external
  content, tokenizer `unicode61` without diacritics folding, so a term is exactly one stem).
- Ranking is FTS5's `bm25()` (k1 1.2, b 0.75) over a query that ORs the question's stems.
- Document frequencies come from the same index (`fts5vocab`), for the answerer's IDF weights.
- `words`: a vector (float16) for every content word of the indexed chunks, encoded once at
  ingest by the store's embedder, for `rag.query.paraphrase` to pair words by meaning without
  encoding a passage's words at question time.
- `meta.generation` is the store's generation token this index reflects; an index whose token
  differs from the store's (written by a client of a shared Chroma server, or cut short between
  the two) is rebuilt from the store, page by page.

Rows of an article's other versions can exist for a moment while it is rewritten; readers drop
them by version, as they do for Chroma's chunks. Nothing here reads or writes Chroma.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SCHEMA = "1"
_SQL = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL, version TEXT NOT NULL,
    source TEXT NOT NULL, date INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    body, content='chunks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, 'row');
CREATE TABLE IF NOT EXISTS words(word TEXT PRIMARY KEY, vector BLOB NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO fts(rowid, body) VALUES (new.rowid, new.body); END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO fts(fts, rowid, body) VALUES ('delete', old.rowid, old.body); END;
"""
_BATCH = 500  # ids per SQL statement (far below SQLite's variable limit)


@dataclass(frozen=True)
class Row:
    """One chunk as the lexical index keeps it."""

    id: str
    article_id: str
    version: str
    source: str
    date: int  # `rag.index.store.date_key`, 0 when undated
    text: str  # title and text: split into terms on the way in


@dataclass(frozen=True)
class Hit:
    id: str
    article_id: str
    version: str
    score: float  # BM25, higher is better


class LexicalIndex:
    """BM25 over chunk terms in one SQLite file; thread-safe (one connection, one lock)."""

    def __init__(self, path: Path, terms: Callable[[str], list[str]]) -> None:
        self.path = path
        self._terms = terms
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=60.0, isolation_level=None)
        with self._lock:
            self._db.executescript(_SQL)
            got = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if got is None:
                self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (_SCHEMA,))
            elif got[0] != _SCHEMA:
                raise sqlite3.DatabaseError(f"{path} has layout {got[0]!r}, expected {_SCHEMA!r}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # the generation this index reflects --------------------------------------------------
    @property
    def generation(self) -> str:
        with self._lock:
            got = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return got[0] if got else ""

    def set_generation(self, token: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (token,))

    # writing -----------------------------------------------------------------------------
    def add(self, rows: Sequence[Row]) -> None:
        """Index `rows`, replacing any rows of the same ids (a chunk rewritten in place)."""
        if not rows:
            return
        data = [(r.id, r.article_id, r.version, r.source, r.date, " ".join(self._terms(r.text))) for r in rows]
        with self._lock, self._transaction():
            for part in _batches([r.id for r in rows]):
                self._db.execute(f"DELETE FROM chunks WHERE id IN ({_marks(part)})", part)
            self._db.executemany(
                "INSERT INTO chunks(id, article_id, version, source, date, body) VALUES (?, ?, ?, ?, ?, ?)", data
            )

    def keep_only(self, article_id: str, ids: Iterable[str]) -> None:
        """Delete the article's rows other than `ids` (its other versions)."""
        keep = set(ids)
        with self._lock, self._transaction():
            got = self._db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,)).fetchall()
            stale = [i for (i,) in got if i not in keep]
            for part in _batches(stale):
                self._db.execute(f"DELETE FROM chunks WHERE id IN ({_marks(part)})", part)

    def remove_articles(self, article_ids: Sequence[str]) -> None:
        with self._lock, self._transaction():
            for part in _batches(list(article_ids)):
                self._db.execute(f"DELETE FROM chunks WHERE article_id IN ({_marks(part)})", part)

    def clear(self) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM chunks")
            self._db.execute("INSERT INTO fts(fts) VALUES ('rebuild')")
            self._db.execute("DELETE FROM meta WHERE key = 'generation'")

    # reading -----------------------------------------------------------------------------
    def search(
        self, question: str, k: int, sources: Sequence[str] = (), date_from: int = 0, date_to: int = 0
    ) -> list[Hit]:
        """The `k` best rows for `question` by BM25, among those of `sources` (all when empty)
        dated within [`date_from`, `date_to`] (0: open; an undated row fails any date bound)."""
        stems = list(dict.fromkeys(self._terms(question)))
        if not stems or k < 1:
            return []
        query = " OR ".join('"' + s.replace('"', '""') + '"' for s in stems)
        where, params = ["fts MATCH ?"], [query]
        if sources:
            where.append(f"c.source IN ({_marks(sources)})")
            params += list(sources)
        if date_from or date_to:
            where.append("c.date > 0")
        if date_from:
            where.append("c.date >= ?")
            params.append(date_from)
        if date_to:
            where.append("c.date <= ?")
            params.append(date_to)
        if len(where) == 1:  # no filter: rank in the FTS table alone, then join the k best rows
            sql = (
                "SELECT c.id, c.article_id, c.version, f.score FROM (SELECT rowid, bm25(fts) AS score FROM fts "
                "WHERE fts MATCH ? ORDER BY score LIMIT ?) f JOIN chunks c ON c.rowid = f.rowid ORDER BY f.score"
            )  # joining every matching row before the sort took half the query's time at 100k rows
        else:
            sql = (
                "SELECT c.id, c.article_id, c.version, bm25(fts) FROM fts JOIN chunks c ON c.rowid = fts.rowid "
                f"WHERE {' AND '.join(where)} ORDER BY bm25(fts) LIMIT ?"
            )
        with self._lock:
            got = self._db.execute(sql, [*params, k]).fetchall()
        return [Hit(i, a, v, -float(s)) for i, a, v, s in got]

    def document_frequencies(self, stems: Iterable[str]) -> dict[str, int]:
        """How many rows contain each of `stems` (0 for a stem no row has)."""
        wanted = list(dict.fromkeys(stems))
        out = dict.fromkeys(wanted, 0)
        with self._lock:
            for part in _batches(wanted):
                for term, doc in self._db.execute(
                    f"SELECT term, doc FROM vocab WHERE term IN ({_marks(part)})", part
                ).fetchall():
                    out[term] = int(doc)
        return out

    def all_document_frequencies(self) -> list[int]:
        """The document frequency of every term of the index."""
        with self._lock:
            return [int(d) for (d,) in self._db.execute("SELECT doc FROM vocab").fetchall()]

    # word vectors (for paraphrases), computed once per word at ingest ---------------------
    def missing_words(self, words: Iterable[str]) -> list[str]:
        """The `words` that have no stored vector yet."""
        wanted = list(dict.fromkeys(words))
        have: set[str] = set()
        with self._lock:
            for part in _batches(wanted):
                got = self._db.execute(f"SELECT word FROM words WHERE word IN ({_marks(part)})", part).fetchall()
                have.update(w for (w,) in got)
        return [w for w in wanted if w not in have]

    def add_word_vectors(self, words: Sequence[str], vectors: np.ndarray) -> None:
        rows = [(w, np.asarray(v, dtype=np.float16).tobytes()) for w, v in zip(words, vectors)]
        with self._lock, self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO words VALUES (?, ?)", rows)

    def word_vectors(self, words: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of `words` (float32), by word; words without one are left out."""
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for part in _batches(list(dict.fromkeys(words))):
                for w, blob in self._db.execute(
                    f"SELECT word, vector FROM words WHERE word IN ({_marks(part)})", part
                ).fetchall():
                    out[w] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        return out

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _batches(values: list[str]) -> list[list[str]]:
    return [values[i : i + _BATCH] for i in range(0, len(values), _BATCH)]
