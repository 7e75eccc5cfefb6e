"""Eval sets: JSON lines of questions with gold facts and gold quotes (format in eval/README.md).

    {"type": "config", "name": "seeds", "version": "1", "thresholds": {"answer_accuracy": 0.8, ...}}
    {"id": "n01", "type": "single", "category": "number", "question": "...", "answerable": true,
     "facts": ["1.7 billion", ["October 28", "Oct. 28"]], "quotes": [{"source": "seeds/x.txt", "quote": "..."}]}
    {"id": "p01", "type": "single", "question": "Who wrote it?", "paraphrases": ["Who is its author?"], ...}
    {"id": "m01", "type": "conversation", "category": "multi-turn", "turns": [{"question": ..., "facts": ..., ...}]}

A fact is a string or a list of alternative strings. Lines are validated with pydantic (a set is
user input); `load_set` raises `InputError` naming the line that is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rag.errors import InputError


class _Quote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    quote: str = Field(min_length=1)


class _Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1)
    answerable: bool = True
    facts: list[str | list[str]] = []
    quotes: list[_Quote] = []

    @model_validator(mode="after")
    def _gold(self) -> _Turn:
        if self.answerable and not self.facts:
            raise ValueError("an answerable question needs at least one fact")
        return self


class _Single(_Turn):
    id: str
    type: Literal["single"]
    category: str = "other"
    paraphrases: list[str] = []  # the same question worded differently: same gold, same expected answer


class _Conversation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    type: Literal["conversation"]
    category: str = "multi-turn"
    turns: list[_Turn] = Field(min_length=2)


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["config"]
    name: str = "eval"
    version: str = "1"
    description: str = ""
    thresholds: dict[str, float] = {}
    llm_thresholds: dict[str, float] = {}  # the gate of `eval --llm` (parse rate, quote validity, ...)


@dataclass(frozen=True)
class GoldQuote:
    source: str
    quote: str


@dataclass(frozen=True)
class Item:
    """One question to ask; conversation turns share `conversation` and come in order."""

    id: str
    category: str
    question: str
    answerable: bool
    facts: tuple[tuple[str, ...], ...]
    quotes: tuple[GoldQuote, ...]
    conversation: str = ""
    turn: int = 0
    group: str = ""  # the id of the question this one rephrases (its own id for the first wording)


@dataclass(frozen=True)
class EvalSet:
    name: str
    version: str
    items: tuple[Item, ...]
    thresholds: dict[str, float]
    path: str
    llm_thresholds: dict[str, float] = field(default_factory=dict)


def _item(
    turn: _Turn, id: str, category: str, conversation: str = "", n: int = 0, question: str = "", group: str = ""
) -> Item:
    return Item(
        id=id,
        category=category,
        question=question or turn.question,
        answerable=turn.answerable,
        facts=tuple((f,) if isinstance(f, str) else tuple(f) for f in turn.facts),
        quotes=tuple(GoldQuote(q.source, q.quote) for q in turn.quotes),
        conversation=conversation,
        turn=n,
        group=group,
    )


def load_set(path: str | Path) -> EvalSet:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"No eval set at {path} — see eval/README.md for the format")
    config = _Config(type="config")
    items: list[Item] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            kind = raw.get("type")
            if kind == "config":
                config = _Config.model_validate(raw)
            elif kind == "single":
                s = _Single.model_validate(raw)
                category = s.category if s.answerable else "unanswerable"
                group = s.id if s.paraphrases else ""
                items.append(_item(s, s.id, category, group=group))
                for k, wording in enumerate(s.paraphrases, start=1):
                    items.append(_item(s, f"{s.id}~{k}", category, question=wording, group=group))
            elif kind == "conversation":
                c = _Conversation.model_validate(raw)
                for k, turn in enumerate(c.turns):
                    items.append(_item(turn, f"{c.id}.{k + 1}", c.category, conversation=c.id, n=k))
            else:
                raise ValueError(f"unknown type {kind!r} (config, single or conversation)")
        except (ValueError, ValidationError, AttributeError) as e:
            raise InputError(f"{path}:{n}: {e}") from None
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}: item ids must be unique")
    return EvalSet(
        config.name, config.version, tuple(items), dict(config.thresholds), str(path), dict(config.llm_thresholds)
    )
