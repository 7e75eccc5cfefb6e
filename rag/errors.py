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


class StorageReadOnlyError(IndexWriteError):
    """The index or the session store cannot be written by this user (nothing is damaged)."""


class StorageFullError(IndexWriteError):
    """The disk holding the index or the session store is full."""


class SessionStoreError(RagError):
    """The conversation store cannot be used (damaged, busy); the index is not affected."""


def storage_fault(error: BaseException, place: str, damaged: str, *, sessions: bool = False) -> RagError | None:
    """The fault `error` (from SQLite, Chroma or the file system) names, as the error to show, or
    None when it names none of them. `place` says what was being used ("The index at index/");
    `damaged` says what to do when it is damaged (what to move away, how to build it again);
    `sessions`: the conversation store, whose damage or contention is a `SessionStoreError`."""
    import errno as codes

    text = str(error).lower()
    number = getattr(error, "errno", None)
    if isinstance(error, (IsADirectoryError, NotADirectoryError)):
        return IndexCorruptError(f"{place} is not what it should be ({error}): move that path away, then try again")
    read_only = any(sign in text for sign in ("readonly", "read-only", "permission denied"))
    if read_only or number in (codes.EROFS, codes.EACCES, codes.EPERM):
        return StorageReadOnlyError(
            f"{place} cannot be written by this user ({error}). It is not damaged and nothing needs deleting: "
            "run as a user who may write to it (SQLite writes beside its files even to read them), or copy "
            "it to a folder you can write and point BRIEFING_INDEX_DIR there."
        )
    if "disk is full" in text or "no space left" in text or number == codes.ENOSPC:
        return StorageFullError(
            f"The disk holding {place[0].lower() + place[1:]} is full ({error}). Free some space, then try "
            "again (after an ingest, run the same ingest again): nothing needs deleting, and what was written "
            "before is kept."
        )
    if any(sign in text for sign in ("malformed", "not a database", "file is encrypted", "corrupt", "no such table")):
        return (SessionStoreError if sessions else IndexCorruptError)(f"{place} is damaged ({error}). {damaged}")
    if "locked" in text or "busy" in text:
        return (SessionStoreError if sessions else IndexBusyError)(
            f"{place} is busy: another process holds it. Try again in a moment."
        )
    return None
