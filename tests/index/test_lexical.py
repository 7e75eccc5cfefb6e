"""The lexical index: BM25 over postings in SQLite, updated per article, and kept in step with the store."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from rag import BriefingQA, Filters, Settings
from rag.index import lexical
from rag.index.chroma import lexicon_path
from rag.index.lexical import LexicalIndex, Row
from rag.index.store import Store
from rag.index.terms import Terms
from tests.fakes import HashEmbedding


@pytest.fixture
def lexicon(tmp_path: Path) -> LexicalIndex:
    index = LexicalIndex(tmp_path / "lexical.sqlite3", Terms())
    index.add(
        [
            Row("a#0", "a", "v1", "a.txt", 20240301, "Grain exports Ships carried wheat through the strait."),
            Row("a#1", "a", "v1", "a.txt", 20240301, "Grain exports Insurance rates for ships fell."),
            Row("b#0", "b", "v1", "b.txt", 0, "Steel prices Steel mills raised prices in March."),
        ]
    )
    return index


def test_bm25_ranks_the_rows_that_hold_the_question_terms(lexicon: LexicalIndex) -> None:
    hits = lexicon.search("Which ships carried wheat?", 5)
    assert [h.id for h in hits][:2] == ["a#0", "a#1"] and hits[0].score > hits[1].score > 0
    assert lexicon.search("the of and", 5) == []  # stopwords only: nothing to look for
    assert lexicon.search('quote " and OR NEAR(', 5) == []  # query syntax in a question is just text


def test_filters_are_sql_conditions(lexicon: LexicalIndex) -> None:
    assert [h.id for h in lexicon.search("prices ships", 5, sources=["b.txt"])] == ["b#0"]
    assert {h.id for h in lexicon.search("prices ships", 5, date_from=20240101)} == {"a#0", "a#1"}
    assert lexicon.search("steel", 5, date_to=20241231) == []  # an undated row fails any date bound


def test_rewrites_replace_rows_and_other_versions_go(lexicon: LexicalIndex) -> None:
    lexicon.add([Row("a#0", "a", "v2", "a.txt", 20240301, "Grain exports Barley now.")])
    assert lexicon.count() == 3 and lexicon.search("wheat", 5) == []
    lexicon.add([Row("a#2", "a", "v2", "a.txt", 20240301, "Grain exports Oats too.")])
    lexicon.keep_only("a", ["a#0", "a#2"])
    assert sorted(h.id for h in lexicon.search("grain", 5)) == ["a#0", "a#2"]
    lexicon.remove_articles(["a"])
    assert lexicon.search("grain", 5) == [] and lexicon.count() == 1


def test_document_frequencies_come_from_the_index(lexicon: LexicalIndex) -> None:
    terms = Terms()
    frequencies = lexicon.document_frequencies([terms.stem("grain"), terms.stem("steel"), "zzz"])
    assert list(frequencies.values()) == [2, 1, 0]


def test_adjacent_name_words_are_one_name_as_written() -> None:
    runs = Terms().name_runs("Did the United States and South Korea's Defense Ministry meet in 2024, Kim?")
    assert runs == ["United States", "South Korea", "Defense Ministry", "Kim"]


def test_ingest_keeps_the_lexical_index_in_step_and_a_stale_one_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Ship traffic in the strait rose 12% in March.\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    qa = BriefingQA(settings, embedder=HashEmbedding())
    qa.ingest([tmp_path / "docs"])
    store = qa._index.store
    assert store.lexicon().generation == store.generation() != ""
    assert [p.article.source for p in qa.retrieve("strait traffic", mode="lexical")] == [
        str(tmp_path / "docs" / "a.txt")
    ]
    path = lexicon_path(settings)
    store.close()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)  # lost, or written by another server client
    again = BriefingQA(settings, embedder=HashEmbedding())
    assert len(again.retrieve("strait traffic", mode="lexical")) == 1
    assert again._index.store.lexicon().generation == again._index.store.generation()


def test_answering_reads_no_whole_collection(tmp_path: Path, seeds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    qa = BriefingQA(Settings(index_dir=tmp_path / "index"), embedder=HashEmbedding())
    qa.ingest([seeds])
    reopened = BriefingQA(Settings(index_dir=tmp_path / "index"), embedder=HashEmbedding())

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("read every chunk")

    monkeypatch.setattr(Store, "nodes", refuse)
    answer = reopened.ask("How many high-level meetings were there in 2024?")
    assert answer.passages and reopened.retrieve(
        "meetings", filters=Filters(sources=(answer.passages[0].article.source,))
    )


WORDS = ["wheat", "ships", "strait", "prices", "steel", "grain", "rates", "march", "ports", "oats"]


def reference_bm25(rows: dict[str, str], question: str, terms: Terms) -> list[tuple[str, float]]:
    """BM25 as FTS5 computes it (k1 1.2, b 0.75, IDF ln((N − n + 0.5)/(n + 0.5)) floored at 1e-6),
    written out over the live rows, for the index to be checked against."""
    docs = {i: terms(text) for i, text in rows.items()}
    n, average = len(docs), sum(map(len, docs.values())) / max(len(docs), 1)
    scores: dict[str, float] = {}
    for term in dict.fromkeys(terms(question)):
        df = sum(term in d for d in docs.values())
        if not df:
            continue
        idf = max(math.log((n - df + 0.5) / (df + 0.5)), 1e-6)
        for i, d in docs.items():
            if tf := d.count(term):
                scores[i] = scores.get(i, 0.0) + idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(d) / average))
    return sorted(scores.items(), key=lambda x: -x[1])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["add", "add", "add", "keep", "remove"]),
            st.integers(0, 5),  # article
            st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=25,
    )
)
@settings(max_examples=40, deadline=None, derandomize=True, database=None)
def test_bm25_over_merged_segments_is_bm25_over_the_live_rows(tmp_path_factory: pytest.TempPathFactory, steps) -> None:
    """Whatever the writes (new chunks, rewrites, other versions dropped, articles removed) and
    however the segments were merged, the ranking is BM25 over the rows that are live now, and
    merging leaves no more than `FANOUT - 1` segments of a level."""
    terms = Terms()
    index = LexicalIndex(tmp_path_factory.mktemp("lex") / "lexical.sqlite3", terms)
    live: dict[str, tuple[str, str]] = {}  # chunk id → (article, text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lexical, "FANOUT", 2)  # merge often
        for op, article, texts in steps:
            a = f"art{article}"
            if op == "add":
                rows = [Row(f"{a}#{j}", a, "v", f"{a}.txt", 0, " ".join(words)) for j, words in enumerate(texts)]
                index.add(rows)
                live |= {r.id: (a, r.text) for r in rows}
            elif op == "keep":
                keep = [f"{a}#0"]
                index.keep_only(a, keep)
                live = {i: v for i, v in live.items() if v[0] != a or i in keep}
            else:
                index.remove_articles([a])
                live = {i: v for i, v in live.items() if v[0] != a}
            for question in ("wheat ships", "steel prices march", "oats"):
                got = [(h.id, h.score) for h in index.search(question, 50)]
                want = reference_bm25({i: t for i, (_, t) in live.items()}, question, terms)
                assert dict(got) == pytest.approx(dict(want)), (question, got, want)
                assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
                top = [h.score for h in index.search(question, 2)]  # no deleted row takes a place
                assert top == pytest.approx([s for _, s in want[:2]])
        levels = index._db.execute("SELECT level, count(*) FROM segments GROUP BY level").fetchall()
        assert all(count < 2 for _, count in levels)
    assert index.count() == len(live)


def test_a_layout_1_index_is_dropped_and_rebuilt_from_the_store(tmp_path: Path) -> None:
    """The FTS5 layout of earlier versions is replaced on open; the store sees no generation and
    indexes its chunks again, so questions keep finding them."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Ship traffic in the strait rose 12% in March.\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    BriefingQA(settings, embedder=HashEmbedding()).ingest([tmp_path / "docs"])
    path = lexicon_path(settings)
    with sqlite3.connect(path) as db:  # what layout 1 left: an FTS5 table over the chunks, and its vocab
        db.executescript(
            "DROP TABLE postings; DROP TABLE vocab; UPDATE meta SET value = '1' WHERE key = 'schema';"
            "CREATE VIRTUAL TABLE fts USING fts5(body, content='chunks', content_rowid='rowid');"
            "CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row');"
        )
    again = BriefingQA(settings, embedder=HashEmbedding())
    assert [p.article.source for p in again.retrieve("strait traffic", mode="lexical")] == [
        str(tmp_path / "docs" / "a.txt")
    ]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("2",)
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'fts'").fetchone() == (0,)
