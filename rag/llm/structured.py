"""The structured reply: the JSON a model is asked for, read as it arrives.

    {"sentences": [{"quotes": [{"passage": 2, "quote": "even the minimum estimate …"}],
                    "text": "The minimum estimate was over $1.7 billion."}]}

An empty `sentences` list means the passages do not answer. Quotes come before the sentence they
support, so a model copies its evidence before it writes its claim. `Reading` takes the reply's
text as it streams in and hands out each sentence once its object is closed (a partial JSON
parse: every sentence but the last one seen is complete), so a reply cut off by a token limit
keeps the sentences it finished. The sentences are parsed with pydantic; what a model writes is
untrusted input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import from_json

MAX_SENTENCES = 3
MAX_QUOTES = 2
MAX_CHARS = 200  # per quote and per sentence: bounds a reply (and a small model's rambling) where the
# provider enforces it by grammar; OpenAI's strict mode does not take it (`rag.llm.profiles` drops it)


class Quote(BaseModel):
    model_config = ConfigDict(extra="ignore")
    passage: int | None = None
    quote: str


class Sentence(BaseModel):
    model_config = ConfigDict(extra="ignore")
    quotes: list[Quote] = Field(default_factory=list)
    text: str


def _object(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(properties),
        "additionalProperties": False,
    }


_TEXT = {"type": "string", "maxLength": MAX_CHARS}
QUOTE_SCHEMA = _object({"passage": {"type": "integer", "minimum": 1}, "quote": _TEXT})
SENTENCE_SCHEMA = _object(
    {
        "quotes": {"type": "array", "items": QUOTE_SCHEMA, "minItems": 1, "maxItems": MAX_QUOTES},
        "text": _TEXT,
    }
)
ANSWER_SCHEMA = _object({"sentences": {"type": "array", "items": SENTENCE_SCHEMA, "maxItems": MAX_SENTENCES}})
QUESTION_SCHEMA = _object({"question": {"type": "string", "maxLength": 500}})
VERDICT_SCHEMA = _object({"supported": {"type": "boolean"}})


# Control characters become spaces: outside strings they can only be JSON whitespace, and inside
# them (where a grammar-constrained model does write raw newlines) strict JSON refuses them;
# a quote is located up to whitespace anyway.
_CONTROL = {c: " " for c in range(32)}


class Unreadable(ValueError):
    """The reply is not the JSON object that was asked for."""


def _partial(text: str) -> Any:
    try:
        return from_json(text, allow_partial=True)
    except ValueError:
        return None


class Reading:
    """A structured reply read incrementally: `feed` text, take the sentences it completes."""

    def __init__(self) -> None:
        self.text = ""  # the reply so far, control characters as spaces (what is parsed)
        self.raw = ""  # the reply so far, as sent
        self.taken = 0  # sentences handed out so far
        self.rejected: list[str] = []  # sentence objects that did not validate

    def feed(self, delta: str) -> list[Sentence]:
        """The sentences that `delta` completed (complete: a later one has begun)."""
        self.raw += delta
        self.text += delta.translate(_CONTROL)
        if not any(mark in delta for mark in "{}]"):
            return []
        found = _sentences(_partial(self.text))
        return self._take(found[:-1]) if found else []

    def close(self) -> list[Sentence]:
        """The sentences left once the reply has ended (the last one only if the JSON is whole,
        or if it parses complete on its own); `Unreadable` if nothing of it is the object asked for."""
        whole = _whole(self.text)
        data = whole if whole is not None else _partial(self.text)
        if not isinstance(data, dict) or not isinstance(data.get("sentences"), list):
            raise Unreadable("the reply is not a JSON object with a sentences list")
        found = _sentences(data)
        return self._take(found)

    def _take(self, found: list[Any]) -> list[Sentence]:
        out = []
        for raw in found[self.taken :]:
            self.taken += 1
            try:
                out.append(Sentence.model_validate(raw))
            except ValidationError:
                self.rejected.append(str(raw)[:200])
        return out


def _whole(text: str) -> Any:
    try:
        return from_json(text.strip())
    except ValueError:
        return None


def _sentences(data: Any) -> list[Any]:
    if not isinstance(data, dict):
        return []
    found = data.get("sentences")
    return found if isinstance(found, list) else []


def read_field(reply: str, name: str) -> Any:
    """One top-level field of a whole structured reply; `Unreadable` if it is missing."""
    data = _whole(reply.translate(_CONTROL))
    if not isinstance(data, dict) or name not in data:
        raise Unreadable(f"the reply is not a JSON object with {name!r}")
    return data[name]
