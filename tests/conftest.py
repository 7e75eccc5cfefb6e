"""Shared fixtures: every path setting points into tmp_path; no test needs the network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import BriefingQA, Settings
from tests.fakes import HashEmbedding

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CHROMA_HOST",
        "CHROMA_PORT",
        "BRIEFING_COLLECTION",
        "BRIEFING_TOP_K",
        "BRIEFING_MIN_CONFIDENCE",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BRIEFING_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A private copy of the seed corpus, as `seeds/` relative to the working directory."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return Path("seeds")


@pytest.fixture
def fake_qa(tmp_path: Path) -> BriefingQA:
    return BriefingQA(Settings(index_dir=tmp_path / "index"), embedder=HashEmbedding())


@pytest.fixture(scope="session")
def seed_qa(tmp_path_factory: pytest.TempPathFactory) -> BriefingQA:
    """The real bundled model over the seeds, built once per session (integration tests)."""
    root = tmp_path_factory.mktemp("seeded")
    shutil.copytree(SEEDS, root / "seeds")
    qa = BriefingQA(Settings(index_dir=root / "index"))
    qa.ingest([root / "seeds"])
    return qa
