"""The lexical index: BM25 over chunk terms, in one SQLite file beside Chroma's files.

The postings of a term are numpy arrays, scored for all rows at once: on the 100k-chunk benchmark
corpus a search takes 5 ms at the median and 12 ms at p95 (SQLite FTS5's `bm25()`, scoring row by
row, took 40 / 85 ms; bm25s had to be rebuilt in memory at every open). A write costs about 1 ms
per chunk.

- `chunks`: one row per chunk (id, article, version, source, date) and its **terms**: the
  chunk's title and text split, lower-cased and stemmed by `rag.index.terms.Terms` (passed in
  as `terms`), joined by spaces. Row ids only grow (`AUTOINCREMENT`): a deleted row's id is
  never given to another chunk.
- `postings`: per **segment** and term, the rows that hold the term, as one blob of uint32
  pairs (row id; term count << 16 | row length), keyed by segment first so that a write
  appends and a merge reads its segments in order (an index by term serves the questions).
  Every write adds a segment, of the level its size sets
  (`FANOUT` ** level rows or more); when `FANOUT` segments of one level exist they are merged
  into one (so a term has at most `FANOUT - 1` blobs per level, and a row is rewritten about
  log_FANOUT(n) times in all: a one-article write merges a few small segments, and a merge of
  the largest ones is rare).
- `dead`: rows deleted since the segment holding them was last merged; a query leaves them
  out, and the merge drops them. When they outnumber a tenth of the live rows, every segment
  is merged into one.
- `vocab`: each term's document frequency over the live rows; `meta` keeps the row count and
  the total of row lengths. So BM25 (k1 1.2, b 0.75, FTS5's IDF: ln((N − n + 0.5)/(n + 0.5)),
  at least 1e-6) and the answerer's IDF weights come from the same counts.
- `meta.generation` is the store's generation token this index reflects; an index whose token
  differs from the store's (written by a client of a shared Chroma server, or cut short between
  the two) is rebuilt from the store, page by page. So is an index of layout 1 (FTS5), once.

Every write is one SQLite transaction and every search reads one snapshot (WAL), so processes
sharing the file see whole writes only. Rows of an article's other versions can exist for a
moment while it is rewritten; readers drop them by version, as they do for Chroma's chunks.
Nothing here reads or writes Chroma.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SCHEMA = "2"
_SQL = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
    rowid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
    version TEXT NOT NULL, source TEXT NOT NULL, date INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS segments(id INTEGER PRIMARY KEY, level INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS postings(segment INTEGER NOT NULL, term TEXT NOT NULL, rows BLOB NOT NULL,
    PRIMARY KEY (segment, term)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS postings_term ON postings(term);
CREATE TABLE IF NOT EXISTS vocab(term TEXT PRIMARY KEY, doc INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead(rowid INTEGER PRIMARY KEY);
DROP TABLE IF EXISTS words;
"""
_LAYOUT_1 = """
DROP TRIGGER IF EXISTS chunks_ai; DROP TRIGGER IF EXISTS chunks_ad;
DROP TABLE IF EXISTS vocab; DROP TABLE IF EXISTS fts; DROP TABLE IF EXISTS chunks;
DELETE FROM meta WHERE key IN ('generation', 'schema');
"""
_BATCH = 500  # ids per SQL statement (far below SQLite's variable limit)
FANOUT = 8  # segments of one level merged into one of the next
_DEAD_SHARE = 0.1  # dead rows above this share of the live ones: merge everything
_K1, _B = 1.2, 0.75
_EMPTY = np.zeros((0, 2), dtype="<u4")


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
            self._db.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            got = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if got is not None and got[0] == "1":  # FTS5: dropped; the store sees no generation and rebuilds it
                self._db.executescript(_LAYOUT_1)
                got = None
            self._db.executescript(_SQL)
            if got is None:
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (_SCHEMA,))
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
            self._delete("id", [r.id for r in rows])
            self._db.executemany(
                "INSERT INTO chunks(id, article_id, version, source, date, body) VALUES (?, ?, ?, ?, ?, ?)", data
            )
            added = []
            for part in _batches([r.id for r in rows]):
                added += self._db.execute(
                    f"SELECT rowid, body FROM chunks WHERE id IN ({_marks(part)})", part
                ).fetchall()
            self._post(added)
            self._merge()

    def keep_only(self, article_id: str, ids: Iterable[str]) -> None:
        """Delete the article's rows other than `ids` (its other versions)."""
        keep = set(ids)
        with self._lock, self._transaction():
            got = self._db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,)).fetchall()
            self._delete("id", [i for (i,) in got if i not in keep])
            self._merge()

    def remove_articles(self, article_ids: Sequence[str]) -> None:
        with self._lock, self._transaction():
            self._delete("article_id", list(article_ids))
            self._merge()

    def clear(self) -> None:
        with self._lock, self._transaction():
            for table in ("chunks", "postings", "segments", "vocab", "dead"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - table names are constants
            self._db.execute("DELETE FROM meta WHERE key IN ('generation', 'documents', 'length')")

    def _delete(self, column: str, values: list[str]) -> None:
        """Delete the chunks whose `column` is one of `values`: counts down, rows marked dead."""
        gone: list[tuple[int, str]] = []
        for part in _batches(values):
            where = f"{column} IN ({_marks(part)})"
            gone += self._db.execute(f"SELECT rowid, body FROM chunks WHERE {where}", part).fetchall()  # noqa: S608
            self._db.execute(f"DELETE FROM chunks WHERE {where}", part)  # noqa: S608
        if not gone:
            return
        counts: Counter[str] = Counter()
        for _, body in gone:
            counts.update(set(body.split()))
        self._db.executemany("UPDATE vocab SET doc = doc - ? WHERE term = ?", [(n, t) for t, n in counts.items()])
        self._db.executemany("DELETE FROM vocab WHERE term = ? AND doc <= 0", [(t,) for t in counts])
        self._db.executemany("INSERT INTO dead VALUES (?)", [(r,) for r, _ in gone])
        self._count(-len(gone), -sum(len(body.split()) for _, body in gone))

    def _post(self, rows: list[tuple[int, str]]) -> None:
        """Write the postings of `rows` (row id, terms) as a new segment."""
        if not rows:
            return
        postings: dict[str, list[int]] = {}
        for rowid, body in rows:
            terms = body.split()
            length = min(len(terms), 0xFFFF)
            for term, tf in Counter(terms).items():
                postings.setdefault(term, []).extend((rowid, min(tf, 0xFFFF) << 16 | length))
        segment = self._segment(len(rows))
        self._db.executemany(
            "INSERT INTO postings VALUES (?, ?, ?)",
            [(segment, t, np.array(postings[t], dtype="<u4").tobytes()) for t in sorted(postings)],
        )
        self._db.executemany(
            "INSERT INTO vocab VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET doc = doc + excluded.doc",
            [(t, len(postings[t]) // 2) for t in sorted(postings)],  # in key order: fewer pages touched
        )
        self._count(len(rows), sum(len(body.split()) for _, body in rows))

    def _segment(self, size: int) -> int:
        """A new segment of `size` rows. Its level is set by its size (`FANOUT` ** level rows or
        more), so a one-article write and a page of a rebuild start at different levels, and a
        merge costs what its rows cost."""
        level = int(math.log(max(size, 1), FANOUT) + 1e-9)
        got = self._db.execute("INSERT INTO segments(level, size) VALUES (?, ?)", (level, size))
        return int(got.lastrowid or 0)

    def _count(self, documents: int, length: int) -> None:
        n, total = self._stats()
        self._db.executemany(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            [("documents", str(n + documents)), ("length", str(total + length))],
        )

    def _stats(self) -> tuple[int, int]:
        got = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN ('documents', 'length')").fetchall())
        return int(got.get("documents", 0)), int(got.get("length", 0))

    def _merge(self) -> None:
        """Merge the segments of a level while it has `FANOUT` of them; every segment into one
        when dead rows pile up (a large removal)."""
        dead = self._db.execute("SELECT count(*) FROM dead").fetchone()[0]
        if dead and dead > _DEAD_SHARE * max(self._stats()[0], 1):
            self._merge_segments([i for (i,) in self._db.execute("SELECT id FROM segments")])
        while got := self._db.execute(
            "SELECT level FROM segments GROUP BY level HAVING count(*) >= ? ORDER BY level LIMIT 1", (FANOUT,)
        ).fetchone():
            self._merge_segments([i for (i,) in self._db.execute("SELECT id FROM segments WHERE level = ?", got)])

    def _merge_segments(self, ids: list[int]) -> None:
        """One segment in place of `ids`, without the dead rows they hold (a row's postings are
        all in the segment its write made, or in the one that segment was merged into)."""
        if len(ids) < 2 and not self._db.execute("SELECT 1 FROM dead LIMIT 1").fetchone():
            return
        marks = _marks(ids)
        blobs: dict[str, list[bytes]] = {}
        for term, blob in self._db.execute(f"SELECT term, rows FROM postings WHERE segment IN ({marks})", ids):
            blobs.setdefault(term, []).append(blob)
        held = self._db.execute(f"SELECT sum(size) FROM segments WHERE id IN ({marks})", ids).fetchone()[0] or 0
        dead = np.array([r for (r,) in self._db.execute("SELECT rowid FROM dead")], dtype="<u4")
        segment = self._segment(held)  # its size counts the dead rows it drops: a level, not a census
        merged, dropped = [], np.zeros(0, dtype="<u4")
        for term, parts in blobs.items():
            rows = np.frombuffer(b"".join(parts), dtype="<u4").reshape(-1, 2)
            if dead.size:
                gone = np.isin(rows[:, 0], dead)
                if gone.any():
                    dropped = np.union1d(dropped, rows[gone, 0])
                    rows = rows[~gone]
            if rows.size:
                merged.append((segment, term, rows.tobytes()))
        self._db.execute("UPDATE segments SET size = ? WHERE id = ?", (held - len(dropped), segment))
        self._db.execute(f"DELETE FROM postings WHERE segment IN ({marks})", ids)
        self._db.executemany("INSERT INTO postings VALUES (?, ?, ?)", merged)
        self._db.executemany("DELETE FROM dead WHERE rowid = ?", [(int(r),) for r in dropped])
        self._db.execute(f"DELETE FROM segments WHERE id IN ({marks})", ids)

    # reading -----------------------------------------------------------------------------
    def search(
        self, question: str, k: int, sources: Sequence[str] = (), date_from: int = 0, date_to: int = 0
    ) -> list[Hit]:
        """The `k` best rows for `question` by BM25, among those of `sources` (all when empty)
        dated within [`date_from`, `date_to`] (0: open; an undated row fails any date bound)."""
        stems = list(dict.fromkeys(self._terms(question)))
        if not stems or k < 1:
            return []
        with self._lock, self._snapshot():
            documents, length = self._stats()
            if not documents:
                return []
            frequencies = self._frequencies(stems)
            postings = [(frequencies[t], self._postings(t)) for t in stems if frequencies.get(t)]
            if not postings:
                return []
            size = 1 + max((int(p[:, 0].max()) for _, p in postings if p.size), default=0)
            scores = np.zeros(size, dtype=np.float64)
            average = length / documents
            for df, p in postings:
                idf = max(math.log((documents - df + 0.5) / (df + 0.5)), 1e-6)
                tf, dl = (p[:, 1] >> 16).astype(np.float64), p[:, 1] & 0xFFFF
                scores[p[:, 0]] += idf * tf * (_K1 + 1) / (tf + _K1 * (1 - _B + _B * dl / average))
            dead = [r for (r,) in self._db.execute("SELECT rowid FROM dead WHERE rowid < ?", (size,))]
            scores[dead] = 0.0
            if sources or date_from or date_to:
                allowed = np.zeros(size, dtype=bool)
                allowed[self._allowed(sources, date_from, date_to, size)] = True
                scores[~allowed] = 0.0
            found = np.flatnonzero(scores > 0)
            best = found[np.lexsort((found, -scores[found]))][:k]  # by score, ties by row id
            if not best.size:
                return []
            marks = _marks(best)
            got = self._db.execute(
                f"SELECT rowid, id, article_id, version FROM chunks WHERE rowid IN ({marks})", [int(r) for r in best]
            ).fetchall()  # noqa: S608
        rows = {r: (i, a, v) for r, i, a, v in got}
        return [Hit(*rows[int(r)], float(scores[r])) for r in best if int(r) in rows]

    def _postings(self, term: str) -> np.ndarray:
        blobs = [b for (b,) in self._db.execute("SELECT rows FROM postings WHERE term = ?", (term,))]
        return np.frombuffer(b"".join(blobs), dtype="<u4").reshape(-1, 2) if blobs else _EMPTY

    def _allowed(self, sources: Sequence[str], date_from: int, date_to: int, size: int) -> list[int]:
        where, params = ["rowid < ?"], [size]
        if sources:
            where.append(f"source IN ({_marks(sources)})")
            params += list(sources)
        if date_from or date_to:
            where.append("date > 0")
        if date_from:
            where.append("date >= ?")
            params.append(date_from)
        if date_to:
            where.append("date <= ?")
            params.append(date_to)
        return [r for (r,) in self._db.execute(f"SELECT rowid FROM chunks WHERE {' AND '.join(where)}", params)]  # noqa: S608

    def _frequencies(self, stems: list[str]) -> dict[str, int]:
        out = dict.fromkeys(stems, 0)
        for part in _batches(stems):
            for term, doc in self._db.execute(f"SELECT term, doc FROM vocab WHERE term IN ({_marks(part)})", part):
                out[term] = int(doc)
        return out

    def document_frequencies(self, stems: Iterable[str]) -> dict[str, int]:
        """How many rows contain each of `stems` (0 for a stem no row has)."""
        with self._lock:
            return self._frequencies(list(dict.fromkeys(stems)))

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _snapshot(self) -> _Transaction:
        return _Transaction(self._db, "BEGIN")


class _Transaction:
    """A write (`BEGIN IMMEDIATE`: the write lock at once) or a read of one snapshot (`BEGIN`)."""

    def __init__(self, db: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> None:
        self._db = db
        self._begin = begin

    def __enter__(self) -> None:
        self._db.execute(self._begin)

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _batches(values: list[str]) -> list[list[str]]:
    return [values[i : i + _BATCH] for i in range(0, len(values), _BATCH)]
