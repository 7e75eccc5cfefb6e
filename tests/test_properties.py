"""Property-based: random questions and random article edits, deletes and re-ingests through the
Python API (a hypothesis state machine, the way Chroma tests its own collections).

After every step: every citation is exact against the file on disk, no chunk or sentence vector
is left without its article's current version (no orphan), every article on disk is answerable
from its own text, and no deleted or removed article is ever cited. Derandomised and bounded, so
it needs no luck and adds well under 2 minutes to `make test`.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from rag import BriefingQA, IndexNotFoundError, InputError, Settings
from tests.fakes import HashEmbedding

THINGS = ["zebra", "heron", "walrus", "bison", "lynx", "otter"]
PLACES = ["Quorvania", "Beltrix", "Zandoria", "Moxley", "Tavrenne", "Ulmport"]
FILLER = [
    "Rangers walked the transects at dawn and dusk.",
    "The survey used drones for the first time.",
    "Volunteers from three villages joined the count.",
    "Heavy rain delayed the work by a week.",
]


def article(thing: str, place: str, count: int, year: int, filler: list[str]) -> str:
    return (
        f"{place} {thing} census\n\n"
        f"The {thing} census in {place} counted {count:,} {thing}s in {year}, officials said.\n\n"
        + " ".join(filler)
        + "\n"
    )


class CorpusMachine(RuleBasedStateMachine):
    names = Bundle("names")

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="briefing-props-"))
        (self.root / "corpus").mkdir()
        self.qa = BriefingQA(Settings(index_dir=self.root / "index"), embedder=HashEmbedding())
        self.facts: dict[str, tuple[str, str, int]] = {}  # file name → (thing, place, count) on disk
        self.gone: dict[str, tuple[str, str]] = {}  # deleted or removed: file name → (thing, place)

    def teardown(self) -> None:
        if self.qa._corpus is not None:
            self.qa._corpus.store.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def path(self, name: str) -> Path:
        return self.root / "corpus" / name

    def write(self, name: str, thing: str, place: str, count: int, year: int, filler: list[str]) -> None:
        self.path(name).write_text(article(thing, place, count, year, filler), encoding="utf-8")
        self.facts[name] = (thing, place, count)
        self.gone.pop(name, None)

    @rule(
        target=names,
        key=st.sampled_from(list(zip(THINGS, PLACES, strict=True))),
        count=st.integers(10, 99_999),
        year=st.integers(1990, 2030),
        filler=st.lists(st.sampled_from(FILLER), max_size=3),
    )
    def add(self, key: tuple[str, str], count: int, year: int, filler: list[str]) -> str:
        thing, place = key
        name = f"{thing}-{place.lower()}.txt"
        self.write(name, thing, place, count, year, filler)
        self.qa.ingest([self.path(name)])
        return name

    @rule(name=names, count=st.integers(10, 99_999), year=st.integers(1990, 2030), sync=st.booleans())
    def edit(self, name: str, count: int, year: int, sync: bool) -> None:
        if name not in self.facts:
            return
        thing, place, _ = self.facts[name]
        self.write(name, thing, place, count, year, FILLER[: count % 4])
        self.qa.ingest([self.root / "corpus"], sync=sync)

    @rule(name=consumes(names), how=st.sampled_from(["sync", "remove"]))
    def delete(self, name: str, how: str) -> None:
        if name not in self.facts:
            return
        thing, place, _ = self.facts.pop(name)
        self.gone[name] = (thing, place)
        if how == "sync":
            self.path(name).unlink()
            report = self.qa.ingest([self.root / "corpus"], sync=True)
        else:
            report = self.qa.remove([self.path(name)])
            self.path(name).unlink()  # the index forgot it; the model says it is off the corpus
        assert len(report.removed) == 1

    @rule()
    def reingest_unchanged(self) -> None:
        if self.facts:
            report = self.qa.ingest([self.root / "corpus"])
            assert report.added == () and report.updated == ()

    @rule(question=st.text(min_size=0, max_size=80))
    def random_question(self, question: str) -> None:
        try:
            answer = self.qa.ask(question)
        except InputError:
            return
        except IndexNotFoundError:
            assert not (self.root / "index" / "chroma.sqlite3").exists()  # nothing ingested yet
            return
        self.check_citations(answer.citations)

    def check_citations(self, citations: tuple) -> None:
        for c in citations:
            name = Path(c.source).name
            assert name in self.facts, f"cited {name}, which is not on disk"
            assert open(c.source, encoding="utf-8").read()[c.start : c.end] == c.quote  # noqa: SIM115 - the documented contract, verbatim

    @invariant()
    def no_orphans(self) -> None:
        if self.qa._corpus is None:
            return
        store = self.qa._index.store
        records = store._articles.get(include=["metadatas"])
        versions = dict(zip(records["ids"], (m["version"] for m in records["metadatas"]), strict=True))
        assert {Path(m["source"]).name for m in records["metadatas"]} == set(self.facts)
        for m in store._chunks.get(include=["metadatas"])["metadatas"]:
            assert versions.get(m["article_id"]) == m["version"]

    @invariant()
    def every_article_answerable_and_nothing_gone_cited(self) -> None:
        for name, (thing, place, count) in self.facts.items():
            answer = self.qa.ask(f"How many {thing}s did the census in {place} count?")
            assert f"{count:,}" in answer.text, (name, answer.text)
            assert any(Path(c.source).name == name for c in answer.citations)
            self.check_citations(answer.citations)
        for thing, place in self.gone.values():
            self.check_citations(self.qa.ask(f"How many {thing}s did the census in {place} count?").citations)


CorpusMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_corpus_state_machine = CorpusMachine.TestCase
