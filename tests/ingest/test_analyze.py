"""The entity pass of ingest (`rag.ingest.analyze.entities`) against the full pipeline."""

from __future__ import annotations

from rag.ingest.analyze import entities, parse

TEXTS = [
    "The Friedrich Naumann Foundation estimated on October 28 that North Korea sent up to $5.5 billion in arms.",
    "In 1066 William of Normandy crossed the Channel with about 7,000 men and defeated Harold at Hastings.",
    "Harvard University, founded in 1636 in Cambridge, Massachusetts, spends 2.1 percent of its budget on libraries.",
]


def test_the_entity_pass_finds_what_the_full_pipeline_finds() -> None:
    for text, found in zip(TEXTS, entities(TEXTS)):
        full = [(e.start_char, e.label_) for e in parse(text).ents]
        assert [(e.start, e.label) for e in found] == full
        assert found  # each text has names, dates and amounts
