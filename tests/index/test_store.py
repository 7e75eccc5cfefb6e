"""The index: safe re-ingest, replacement without orphans, errors for bad indexes, server mode."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag import BriefingQA, Filters, IndexCorruptError, IndexNotFoundError, Settings, StoreUnavailableError
from rag.index.records import pack_vectors, unpack_vectors
from tests.fakes import HashEmbedding
from tests.servers import free_port

ARTICLE = "Ship traffic in the strait rose 12% in March. Officials said the route was safe again.\n"
OTHER = "Wheat prices fell 3% on Friday. Traders blamed the strong harvest in Kansas.\n"


def _chunk_ids(qa: BriefingQA) -> list[str]:
    return sorted(n.node_id for n in qa._index.store.nodes())


def test_unchanged_reingest_does_no_embedding_work(fake_qa: BriefingQA, seeds: Path) -> None:
    first = fake_qa.ingest([seeds])
    assert len(first.added) == 2 and first.chunks_embedded > 0
    embedder = fake_qa.embedder
    calls = embedder.calls
    again = fake_qa.ingest([seeds])
    assert embedder.calls == calls
    assert again.added == () and again.updated == () and len(again.unchanged) == 2
    assert again.chunks_embedded == 0


def test_changed_file_replaces_its_chunks_without_orphans(fake_qa: BriefingQA, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(" ".join([ARTICLE.strip()] * 20) + "\n")
    fake_qa.ingest([path])
    before = _chunk_ids(fake_qa)
    assert len(before) > 1
    path.write_text(OTHER)
    report = fake_qa.ingest([path])
    assert len(report.updated) == 1
    after = _chunk_ids(fake_qa)
    article = report.updated[0]
    version = fake_qa.articles()[0].version
    assert after == [f"{article}@{version}#0"]
    nodes = fake_qa._index.store.nodes()
    assert "Wheat" in nodes[0].get_content()
    store = fake_qa._index.store
    assert store._chunks.count() == 1  # the old version's chunks are gone
    answer = fake_qa.ask("Why did wheat prices fall?")
    assert all("strait" not in c.quote for c in answer.citations)


def test_failed_file_keeps_what_was_indexed(fake_qa: BriefingQA, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE)
    fake_qa.ingest([path])
    before = _chunk_ids(fake_qa)
    path.write_bytes(b"\x89PNG\x00binary\x00")
    report = fake_qa.ingest([path])
    assert [s.reason for s in report.skipped] == ["binary file (contains NUL bytes), not text"]
    assert _chunk_ids(fake_qa) == before
    assert fake_qa.articles()[0].content_hash


def test_skipped_files_are_reported_and_the_rest_ingested(fake_qa: BriefingQA, tmp_path: Path) -> None:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "good.txt").write_text(ARTICLE)
    (d / "empty.txt").write_text("")
    (d / "latin.txt").write_bytes("Caf\xe9".encode("latin-1"))
    report = fake_qa.ingest([d])
    assert len(report.added) == 1
    reasons = {Path(s.source).name: s.reason for s in report.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["latin.txt"].startswith("not UTF-8")


def test_exact_duplicates_are_linked_not_dropped(fake_qa: BriefingQA, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE)
    (tmp_path / "b.txt").write_text(ARTICLE)
    (tmp_path / "c.txt").write_text(OTHER)
    report = fake_qa.ingest([tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"])
    assert len(report.added) == 3
    infos = {Path(a.source).name: a for a in fake_qa.articles()}
    assert infos["a.txt"].duplicates == (infos["b.txt"].id,)
    assert infos["b.txt"].duplicates == (infos["a.txt"].id,)
    assert infos["c.txt"].duplicates == ()


def test_filters_restrict_sources_and_dates(fake_qa: BriefingQA, tmp_path: Path) -> None:
    (tmp_path / "old.md").write_text("---\ndate: 2020-01-01\n---\n" + ARTICLE)
    (tmp_path / "new.md").write_text("---\ndate: 2024-06-01\n---\n" + ARTICLE.replace("March", "May"))
    fake_qa.ingest([tmp_path / "old.md", tmp_path / "new.md"])
    q = "How much did ship traffic rise?"
    recent = fake_qa.retrieve(q, filters=Filters(date_from=dt.date(2023, 1, 1)))
    assert {p.article.source for p in recent} == {str(tmp_path / "new.md")}
    only_old = fake_qa.retrieve(q, filters=Filters(sources=(str(tmp_path / "old.md"),)))
    assert {p.article.source for p in only_old} == {str(tmp_path / "old.md")}
    assert fake_qa.retrieve(q, filters=Filters(date_to=dt.date(2019, 1, 1))) == []
    with pytest.raises(ValueError):
        Filters(date_from=dt.date(2024, 1, 2), date_to=dt.date(2024, 1, 1))


def test_missing_index_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="nothing has been ingested there"):
        BriefingQA.open(tmp_path / "nowhere", embedder=HashEmbedding())
    qa = BriefingQA(Settings(index_dir=tmp_path / "empty"), embedder=HashEmbedding())
    with pytest.raises(IndexNotFoundError):
        qa.ask("What happened?")


def test_index_from_another_embedding_model_is_refused(fake_qa: BriefingQA, seeds: Path, tmp_path: Path) -> None:
    fake_qa.ingest([seeds])

    class Other(HashEmbedding):
        model_name: str = "other-model"

    with pytest.raises(IndexCorruptError, match="built with the embedding model 'hash-embedding-64'.*--rebuild"):
        BriefingQA.open(tmp_path / "index", embedder=Other()).ask("anything?")


def test_an_index_of_the_old_layout_is_refused_with_the_rebuild_command(
    fake_qa: BriefingQA, seeds: Path, tmp_path: Path
) -> None:
    fake_qa.ingest([seeds])
    store = fake_qa._index.store
    store._chunks.modify(metadata={**store._chunks.metadata, "schema": 1})
    with pytest.raises(IndexCorruptError, match="layout version 1.*--rebuild"):
        BriefingQA.open(tmp_path / "index", embedder=HashEmbedding()).ask("anything?")


def test_a_chunks_vector_is_the_mean_of_its_sentences_and_they_are_not_stored(
    fake_qa: BriefingQA, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE)
    fake_qa.ingest([tmp_path / "a.txt"])
    store = fake_qa._index.store
    [chunk_id] = _chunk_ids(fake_qa)
    got = store._chunks.get(ids=[chunk_id], include=["embeddings", "metadatas"])
    sentences = ["Ship traffic in the strait rose 12% in March.", "Officials said the route was safe again."]
    mean = HashEmbedding().encode(sentences).mean(axis=0)
    assert np.allclose(got["embeddings"][0], mean / np.linalg.norm(mean), atol=1e-5)
    assert "vectors" not in got["metadatas"][0]


def test_packed_vectors_round_trip() -> None:
    rows = np.random.default_rng(0).normal(size=(3, 384)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    back = np.stack(unpack_vectors(pack_vectors(rows)))
    assert back.shape == (3, 384)
    assert np.abs(back @ rows.T - rows @ rows.T).max() < 1e-3
    assert unpack_vectors("") == []


def test_corrupted_index_is_reported(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    (index / "chroma.sqlite3").write_bytes(b"this is not a sqlite database" * 100)
    with pytest.raises(IndexCorruptError, match="is damaged.*--rebuild"):
        BriefingQA.open(index, embedder=HashEmbedding())


@pytest.fixture
def chroma_server(tmp_path: Path):  # noqa: ANN201
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield port
    proc.terminate()
    proc.wait(timeout=20)


@pytest.mark.server
def test_server_mode_runs_the_same_pipeline(chroma_server: int, seeds: Path, tmp_path: Path) -> None:
    settings = Settings.from_env({"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(chroma_server)})
    qa = BriefingQA(settings, embedder=HashEmbedding())
    report = qa.ingest([seeds])
    assert len(report.added) == 2
    assert not (tmp_path / "index" / "chroma.sqlite3").exists()
    again = BriefingQA(settings, embedder=HashEmbedding())
    assert len(again.ingest([seeds]).unchanged) == 2
    answer = again.ask("How many high-level meetings were there in 2024?")
    for c in answer.citations:
        assert Path(c.source).read_text(encoding="utf-8")[c.start : c.end] == c.quote
    assert len(again.retrieve("arms sales")) > 0


def test_unreachable_server_is_a_clear_error() -> None:
    settings = Settings(chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreUnavailableError, match="Cannot reach the Chroma server"):
        BriefingQA(settings, embedder=HashEmbedding()).ingest(["."])


def test_rebuild_drops_the_index(fake_qa: BriefingQA, seeds: Path, tmp_path: Path) -> None:
    from rag.index.store import Store

    fake_qa.ingest([seeds])
    Store.delete_index(fake_qa.settings)
    fresh = BriefingQA(fake_qa.settings, embedder=HashEmbedding())
    assert len(fresh.ingest([seeds]).added) == 2
    shutil.rmtree(tmp_path / "index")


STUDY = (
    "A study by the Harbour Research Institute found that grain exports rose to $4.2 billion in 2023. "
    "Author Maria Lopez said the rise came from new ports in West Africa. Exports reached 12,000 tonnes a day.\n"
)
REWRITE = (
    "Grain exports rose to $4.2 billion in 2023, according to the Harbour Research Institute. "
    "Maria Lopez, who wrote the study, credited new ports in West Africa. Daily exports hit 12,000 tonnes.\n"
)
OTHER_STUDY = (
    "A study by the Coastal Policy Group found that grain exports rose to $1.1 billion in 2019. "
    "Author John Smith said the rise came from new ports in South America. Exports reached 3,000 tonnes a day.\n"
)


def test_near_duplicates_share_facts_not_just_a_topic(fake_qa: BriefingQA, tmp_path: Path) -> None:
    for name, text in (("study.txt", STUDY), ("rewrite.txt", REWRITE), ("other.txt", OTHER_STUDY)):
        (tmp_path / name).write_text(text)
    fake_qa.settings = fake_qa.settings.with_(near_duplicate=0.5)
    fake_qa.ingest([tmp_path / "study.txt", tmp_path / "rewrite.txt", tmp_path / "other.txt"])
    infos = {Path(a.source).name: a for a in fake_qa.articles()}
    assert infos["rewrite.txt"].duplicates == (infos["study.txt"].id,)
    assert infos["other.txt"].duplicates == ()


def test_facts_are_numbers_and_names() -> None:
    from rag.ingest.dedupe import facts

    assert facts(STUDY) == {"4.2b", "2023", "12000", "harbour research institute", "maria lopez", "west africa"}


def test_whole_collection_reads_go_in_pages(fake_qa: BriefingQA, tmp_path: Path) -> None:
    """Chroma refuses one read of more rows than SQLite's variable limit, so reads of a whole
    collection and of long id lists are paged: with a page of 2 rows every row still comes back."""
    from rag.index.store import Store

    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(7):
        (corpus / f"a{i}.txt").write_text(f"Report number {i} says the harbour of town {i} reopened. It was calm.\n")
    fake_qa.ingest([corpus])
    full = Store.open(fake_qa.settings, HashEmbedding().model_name, create=False)
    paged = Store.open(fake_qa.settings, HashEmbedding().model_name, create=False, page=2)
    assert len(full.articles()) == 7 and paged.articles() == full.articles()
    assert paged.article_state() == full.article_state()
    assert sorted(n.node_id for n in paged.nodes()) == sorted(n.node_id for n in full.nodes())
    assert paged.article_texts(sorted(full.articles())) == full.article_texts(sorted(full.articles()))
    paged.remove_articles(sorted(full.articles())[:5])
    assert len(full.articles()) == 2 and len(full.nodes()) == len(paged.nodes()) == 2


def test_a_chroma_failure_while_writing_is_a_clear_error_and_loses_nothing(
    fake_qa: BriefingQA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chromadb.errors import InternalError

    from rag.errors import IndexWriteError
    from rag.index.store import Store

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The harbour of Dover reopened on Tuesday after the storm, officials said.\n")
    fake_qa.ingest([corpus])
    (corpus / "b.txt").write_text("Ferries to Calais resumed on Wednesday morning, the operator said.\n")

    def fail(*args: object, **kwargs: object) -> None:
        raise InternalError("database or disk is full")

    monkeypatch.setattr(Store, "write_articles", fail)
    with pytest.raises(IndexWriteError, match="is full.*Free some space.*run the same ingest again"):
        fake_qa.ingest([corpus])
    monkeypatch.undo()
    assert [a.source for a in fake_qa.articles()] == [str(corpus / "a.txt")]
    assert len(fake_qa.ingest([corpus]).added) == 1 and len(fake_qa.articles()) == 2  # the same ingest again
