"""Score fusion (`rag.query.retrieve.fuse`) and the Chroma filter clause, worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from rag.index.store import ChunkRecord, chroma_where
from rag.query.retrieve import fuse
from rag.types import Filters


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
