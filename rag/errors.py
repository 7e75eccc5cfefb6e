"""Errors that are safe to show to a user: each message says what went wrong and what to do.

The CLI and the UI catch `RagError` and print its message; anything else is a bug and surfaces
as a traceback (in tests too).
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: the message is written for the user."""


class InputError(RagError, ValueError):
    """A question, a path or an option the user gave cannot be used."""


class IndexNotFoundError(RagError):
    """There is no index where one was expected."""


class IndexCorruptError(RagError):
    """The index exists but cannot be read, or was built by another embedding model."""


class ConfigError(RagError):
    """Settings or installed packages do not allow the requested component to start."""


class SkipFile(RagError):
    """This file cannot be ingested; the message says why and what to do (ingest reports it, goes on)."""


class LLMUnavailable(RagError):
    """The configured language model did not answer usably within the budget (callers fall back)."""


class LLMRefused(LLMUnavailable):
    """The endpoint turned the request down (an option it does not support, such as structured output)."""


class StoreUnavailableError(RagError):
    """The Chroma server named by the settings cannot be reached."""


class IndexChangedError(RagError):
    """The index changed under a reader (another process wrote to it); reopening it helps."""


class IndexBusyError(RagError):
    """Another process holds the index's write lock for too long."""


class IndexWriteError(RagError):
    """Writing to the index failed part-way (disk full, permissions, a server fault)."""
