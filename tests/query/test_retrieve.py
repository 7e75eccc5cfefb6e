"""Score fusion (`rag.query.retrieve.fuse`) and the Chroma filter clause, worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from rag import BriefingQA
from rag.index.records import ChunkRecord, chroma_where
from rag.index.store import Store
from rag.query.retrieve import fuse
from rag.types import Filters
from tests.fakes import HashEmbedding


def _r(name: str) -> ChunkRecord:
    return ChunkRecord(name, {"article_id": name}, name)


def test_fusion_rescales_each_retriever_by_its_mean_and_spread_then_sums() -> None:
    """Dense scores 0.9 / 0.5: mean 0.7, sd 0.2, so [0.1, 1.3] maps to [0, 1]: a → 2/3, b → 1/3.
    BM25 scores 10 / 2 / 6: mean 6, sd √(32/3) ≈ 3.266, [−3.798, 15.798]: a → 0.704, c → 0.296,
    d → 0.5. Halved (weights 0.5) and summed: a 0.685, d 0.25, b 0.167, c 0.148."""
    dense = [(_r("a"), 0.9), (_r("b"), 0.5)]
    lexical = [(_r("c"), 2.0), (_r("a"), 10.0), (_r("d"), 6.0)]
    fused = fuse([dense, lexical], [0.5, 0.5])
    assert [r.id for r, _ in fused] == ["a", "d", "b", "c"]
    assert [s for _, s in fused] == pytest.approx([0.6854, 0.25, 0.1667, 0.1479], abs=1e-3)


def test_fusion_of_one_score_or_none() -> None:
    assert fuse([[(_r("a"), 0.4)], []], [0.5, 0.5]) == [(_r("a"), 0.5)]  # one positive score scales to 1
    assert fuse([[], []], [0.5, 0.5]) == []


def test_filters_become_one_chroma_where_clause() -> None:
    assert chroma_where(Filters()) is None
    assert chroma_where(Filters(sources=("a.txt",))) == {"source": {"$in": ["a.txt"]}}
    both = chroma_where(Filters(sources=("a.txt",), date_from=dt.date(2024, 10, 1)))
    assert both == {"$and": [{"source": {"$in": ["a.txt"]}}, {"date": {"$gte": 20241001}}, {"date": {"$gt": 0}}]}


def test_answering_reads_only_the_records_of_the_articles_it_retrieved(
    fake_qa: BriefingQA, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening an index and answering never reads the whole article table (at 100k chunks that
    read was 5–6 s of every cold start); a BM25 hit that fusion drops is never fetched."""
    fake_qa.ingest([seeds])
    settings = fake_qa.settings

    def whole_table(self: Store) -> None:
        raise AssertionError("read every article record")

    monkeypatch.setattr(Store, "articles", whole_table)
    fetched: list[list[str]] = []
    original = Store.chunk_records
    monkeypatch.setattr(Store, "chunk_records", lambda self, ids: fetched.append(list(ids)) or original(self, ids))
    qa = BriefingQA.open(settings.index_dir, settings=settings, embedder=HashEmbedding())
    answer = qa.ask("What was the minimum arms estimate?", top_k=2)
    assert answer.passages and all(p.article.source.startswith("seeds/") for p in answer.passages)
    assert sum(len(ids) for ids in fetched) <= 2  # at most the kept passages, never all 20 BM25 hits
    cited = {c.article_id for c in answer.citations}
    assert cited and set(qa.article_infos(sorted(cited))) == cited  # what the UI renders an answer with
    assert qa.article_count() == 2  # what /health reports


def test_article_texts_are_read_once_until_the_index_changes(
    fake_qa: BriefingQA, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Questions in a row verify their quotes against the same few article texts: the corpus
    keeps them, and a new generation of the index (an ingest) reads them again."""
    fake_qa.ingest([seeds])
    read: list[list[str]] = []
    original = Store.article_texts
    monkeypatch.setattr(Store, "article_texts", lambda self, ids: read.append(list(ids)) or original(self, ids))
    first = fake_qa.ask("What was the minimum arms estimate?")
    again = fake_qa.ask("What was the maximum arms estimate?")
    assert first.citations and again.passages and len(read) == 1
    (seeds / "extra.txt").write_text("A brand new article about shipments of shells to the front.\n", encoding="utf-8")
    fake_qa.ingest([seeds])
    assert fake_qa.ask("What was the minimum arms estimate?").citations
    assert len(read) == 2
