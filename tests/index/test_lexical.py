"""The lexical index: BM25 in SQLite FTS5, updated per article, and kept in step with the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import BriefingQA, Filters, Settings
from rag.index.lexical import LexicalIndex, Row
from rag.index.store import Store, lexicon_path
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
    assert sorted(lexicon.all_document_frequencies())[-1] == 2


def test_ingest_keeps_the_lexical_index_in_step_and_a_stale_one_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Ship traffic in the strait rose 12% in March.\n", encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    qa = BriefingQA(settings, embedder=HashEmbedding())
    qa.ingest([tmp_path / "docs"])
    store = qa._index.store
    assert store.lexicon().generation == store.generation() != ""
    assert [p.article.source for p in qa.retrieve("strait traffic", mode="lexical")] == [str(tmp_path / "docs" / "a.txt")]
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
    assert answer.passages and reopened.retrieve("meetings", filters=Filters(sources=(answer.passages[0].article.source,)))
