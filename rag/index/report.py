"""What an ingest or a removal did: `IngestReport`, with a `Skipped` entry per file it could not read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did, per article id / source."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    duplicates: tuple[tuple[str, str, float], ...] = ()  # (article id, other id, similarity)
    chunks_embedded: int = 0
    removed: tuple[str, ...] = ()  # ids removed (`remove`, or `ingest --sync` for deleted files)

    @property
    def indexed(self) -> int:
        """Articles the index holds from this run's files (added, updated or unchanged)."""
        return len(self.added) + len(self.updated) + len(self.unchanged)

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.unchanged)} unchanged",
            f"{len(self.skipped)} skipped",
        ]
        if self.removed:
            parts.append(f"{len(self.removed)} removed")
        return ", ".join(parts) + f" ({self.chunks_embedded} chunks embedded)"
