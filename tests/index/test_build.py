"""Kill -9 at every write step of replacing an article: a reader always sees one whole version.

A child process re-ingests a changed article and kills itself (SIGKILL, no clean-up) just before
its N-th write to Chroma, for N = 1, 2, … until an ingest runs to the end. After each kill a new
reader opens the index: the article must be answerable, every citation exact, and the chunks it
reads complete and of one version (the old one until the switch, the new one after). A second
ingest then finishes the job: the new version only, and no orphan chunk or sentence left.

Also: batches embedded while the batch before is written, and an encoder failure on the way.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag import BriefingQA, Settings
from tests.conftest import ROOT
from tests.fakes import HashEmbedding

COMMON = "Ferries to Calais run every 45 minutes, the port authority said on Tuesday."
OLD = ("Port of Dover reopens\n\n" + COMMON + "\n\n" + "The harbour master is Ann Lee, who has run the port since 2019. " * 6
       + "\n\nFreight traffic fell by 12 percent during the storm, officials said.\n")  # fmt: skip
NEW = ("Port of Dover reopens\n\n" + COMMON + "\n\n" + "The harbour master is Bob Stone, appointed in March. " * 6
       + "\n\nPassenger numbers rose by 30 percent after the reopening, officials said.\n")  # fmt: skip

CHILD = r"""
import os, signal, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from chromadb.api.models.Collection import Collection
from rag import BriefingQA, Settings
from tests.fakes import HashEmbedding

kill_at, count = int(sys.argv[2]), [0]

def counted(name):
    original = getattr(Collection, name)
    def write(self, *args, **kwargs):
        count[0] += 1
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, *args, **kwargs)
    setattr(Collection, name, write)

for name in ("add", "upsert", "update", "delete", "modify"):
    counted(name)
qa = BriefingQA(Settings(index_dir=Path("index")), embedder=HashEmbedding())
qa.ingest(["corpus"])  # run in the copy's folder: sources (and so article ids) are "corpus/…"
print("finished after", count[0], "writes")
"""


def _reader() -> BriefingQA:
    return BriefingQA(Settings(index_dir=Path("index")), embedder=HashEmbedding())


def _check_one_whole_version(qa: BriefingQA, allowed: tuple[str, ...]) -> str:
    """The article answers with exact quotes from one complete stored version; returns its text."""
    info = next(a for a in qa.articles() if a.source.endswith("dover.txt"))
    text = qa.article_text(info.id)
    assert text in allowed
    store = qa._index.store
    visible = [n for n in store.nodes() if qa._index.visible(n.metadata) and n.metadata["article_id"] == info.id]
    assert len(visible) == info.chunks and {n.metadata["version"] for n in visible} == {info.version}
    answer = qa.ask("How often do ferries to Calais run?")
    assert not answer.abstained and any("every 45 minutes" in c.quote for c in answer.citations)
    for c in answer.citations:
        assert qa.article_text(c.article_id)[c.start : c.end] == c.quote
    return text


def test_kill_at_every_write_step_of_a_replacement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "base"
    (base / "corpus").mkdir(parents=True)
    (base / "corpus" / "dover.txt").write_text(OLD, encoding="utf-8")
    (base / "corpus" / "other.txt").write_text("Wheat prices fell 3% on Friday in Kansas.\n", encoding="utf-8")
    monkeypatch.chdir(base)
    qa = _reader()
    qa.ingest(["corpus"])
    qa._index.store.close()
    (base / "corpus" / "dover.txt").write_text(NEW, encoding="utf-8")

    seen = set()
    for kill_at in range(1, 40):
        run = tmp_path / f"kill-{kill_at}"
        shutil.copytree(base, run)
        monkeypatch.chdir(run)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), str(kill_at)], capture_output=True, text=True, timeout=120
        )
        reader = _reader()
        if child.returncode == 0:  # ran to the end: every write step before this one was tried
            assert "finished after" in child.stdout
            assert _check_one_whole_version(reader, (NEW,)) == NEW
            break
        assert child.returncode == -9, child.stderr  # killed, not crashed
        seen.add(_check_one_whole_version(reader, (OLD, NEW)))
        reader.ingest(["corpus"])  # the next ingest finishes the job
        assert _check_one_whole_version(reader, (NEW,)) == NEW
        store = reader._index.store
        records = {i: m for i, m in zip(*(lambda g: (g["ids"], g["metadatas"]))(store._articles.get()))}
        for m in store._chunks.get(include=["metadatas"])["metadatas"]:
            assert m["version"] == records[m["article_id"]]["version"]  # no orphan
        reader._index.store.close()
    else:
        raise AssertionError("the ingest never ran to the end")
    assert kill_at >= 6 and seen == {OLD, NEW}  # kills fell both before and after the switch


def test_a_removal_cut_short_is_finished_by_the_next_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A removal that fails after marking its records leaves the index flagged; the next ingest
    (of another file) finds the marked record and finishes the removal. Once nothing is pending,
    the flag is clear and an ingest reads only its own files' records."""
    from rag.index.lexical import LexicalIndex
    from rag.index.store import Store

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "dover.txt").write_text(OLD, encoding="utf-8")
    (tmp_path / "corpus" / "other.txt").write_text("Wheat prices fell 3% on Friday in Kansas.\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    # an absolute index path: Chroma caches its clients by path, and other tests use "index" too
    qa = BriefingQA(Settings(index_dir=tmp_path / "index"), embedder=HashEmbedding())
    qa.ingest(["corpus"])
    dover = next(a.id for a in qa.articles() if a.source.endswith("dover.txt"))

    def crash(self: LexicalIndex, ids: object) -> None:
        raise RuntimeError("killed mid-removal")

    with monkeypatch.context() as patched:
        patched.setattr(LexicalIndex, "remove_articles", crash)
        with pytest.raises(RuntimeError, match="mid-removal"):
            qa.remove(["corpus/dover.txt"])
    assert dover not in {a.id for a in qa.articles()}  # marked: readers no longer see it
    assert qa.article_count() == 1  # counted without the marked record
    store = qa._index.store
    assert store._meta()["removing"] == 1 and store.interrupted_removals() == [dover]

    (tmp_path / "late.txt").write_text("Rail strikes ended on Monday in Lyon.\n", encoding="utf-8")
    qa.ingest(["late.txt"])
    store = qa._index.store
    assert store._meta()["removing"] == 0 and store.interrupted_removals() == []
    assert len(qa.articles()) == 2 == qa.article_count() and dover not in {a.id for a in qa.articles()}
    assert store._articles.get(ids=[dover])["ids"] == []  # the record is gone, not only marked
    assert all(m["article_id"] != dover for m in store._chunks.get(include=["metadatas"])["metadatas"])

    searched: list[dict] = []
    original = Store.article_state
    monkeypatch.setattr(
        Store, "article_state", lambda self, ids=None, **kw: searched.append(kw) or original(self, ids, **kw)
    )
    qa.ingest(["late.txt"])
    assert searched and all("where" not in kw for kw in searched)  # no search of every record for marks


class _Encoder(HashEmbedding):
    fail_after: int = 0  # calls before one raises (0: never)

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.fail_after and self.calls >= self.fail_after:
            raise RuntimeError("the encoder stopped")
        return super().encode(texts)


def _many_articles(folder: Path, count: int = 6, sentences: int = 60) -> None:
    folder.mkdir()
    for a in range(count):
        body = " ".join(f"The harbour of Port {a} handled cargo number {k} after the storm." for k in range(sentences))
        (folder / f"port{a}.txt").write_text(f"Port {a} reopens\n\n{body}\n", encoding="utf-8")


def test_batches_embedded_while_others_are_written(tmp_path: Path) -> None:
    """Several batches (more sentences than one holds) are in flight at once: the next one is
    embedded while the one before is analysed and written; every batch is written, and the
    encoder is asked for sentences only (one call per batch)."""
    from rag.index.build import _BATCH_SENTENCES

    _many_articles(tmp_path / "corpus")
    embedder = _Encoder()
    qa = BriefingQA(Settings(index_dir=tmp_path / "index"), embedder=embedder)
    report = qa.ingest([tmp_path / "corpus"])
    assert _BATCH_SENTENCES < 6 * 60 and embedder.calls == 2
    assert len(report.added) == 6
    assert sum(a.chunks for a in qa.articles()) == report.chunks_embedded  # every batch written


def test_an_encoder_failure_in_a_later_batch_fails_the_ingest_and_a_rerun_finishes_it(tmp_path: Path) -> None:
    _many_articles(tmp_path / "corpus")
    settings = Settings(index_dir=tmp_path / "index")
    with pytest.raises(RuntimeError, match="encoder stopped"):
        BriefingQA(settings, embedder=_Encoder(fail_after=1)).ingest([tmp_path / "corpus"])
    qa = BriefingQA(settings, embedder=_Encoder())
    report = qa.ingest([tmp_path / "corpus"])
    assert len(report.added) + len(report.unchanged) == 6 and qa.article_count() == 6
