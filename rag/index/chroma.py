"""The Chroma client and the plumbing every read and write of the index goes through.

`client(settings, create)` opens a local folder or a server; `pages`, `read_all` and `read_ids`
read a whole collection or a long id list a page at a time (SQLite's variable limit);
`chroma_errors` turns Chroma's errors on a read path into `IndexChangedError`; `where` and
`corrupt_message` name the index in messages. Only `rag.index.store` uses it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from rag.config import Settings
from rag.errors import IndexChangedError, IndexCorruptError, IndexNotFoundError, StoreUnavailableError

# Rows per Chroma read or delete. One call over more rows than SQLite's variable limit (32,766)
# fails ("too many SQL variables"), locally and on a server, so every read of a whole collection
# and every call with a long id list goes in pages of this size.
PAGE = 5000


def lexicon_path(settings: Settings) -> Any:
    """The lexical index's file in the index folder: one per collection, and per server in server mode."""
    where = f"{settings.chroma_host}-{settings.chroma_port}-" if settings.remote else ""
    return settings.index_dir / f"lexical-{where}{settings.collection}.sqlite3"


def pages(collection: Any, include: list[str], where: dict[str, Any] | None = None, page: int = PAGE) -> Iterator[Any]:
    """`collection.get(...)` of every matching row, one page of `page` rows after another."""
    offset = 0
    while True:
        got = collection.get(include=include, where=where, limit=page, offset=offset)
        yield got
        if len(got["ids"]) < page:
            return
        offset += page


def read_all(collection: Any, include: list[str], where: dict[str, Any] | None = None, page: int = PAGE) -> dict:
    """`collection.get(...)` of every matching row, read `page` rows at a time."""
    out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
    for got in pages(collection, include, where, page):
        _extend(out, got)
    return out


def read_ids(collection: Any, ids: Sequence[str], include: list[str], page: int = PAGE) -> dict:
    """`collection.get(ids=ids, ...)`, `page` ids at a time."""
    out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
    ids = list(ids)
    for i in range(0, len(ids), page):
        _extend(out, collection.get(ids=ids[i : i + page], include=include))
    return out


def _extend(out: dict[str, list[Any]], got: Any) -> None:
    """Append one page of a `get()` result to `out`, key by key."""
    for key in out:
        out[key] += list(got[key] if got.get(key) is not None else [])


def parts(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


@contextlib.contextmanager
def chroma_errors(settings: Settings) -> Iterator[None]:
    """Chroma's errors on a read path, as `IndexChangedError` (the caller reopens and retries)."""
    from chromadb.errors import ChromaError

    try:
        yield
    except ChromaError as e:
        raise IndexChangedError(
            f"The index at {where(settings)} could not be read ({type(e).__name__}: {e}); it may be changing: ask again"
        ) from e


def where(settings: Settings) -> str:
    if settings.remote:
        return f"Chroma server {settings.chroma_host}:{settings.chroma_port} (collection {settings.collection!r})"
    return f"{settings.index_dir}/"


def corrupt_message(settings: Settings, e: Exception) -> str:
    return (
        f"The index at {where(settings)} cannot be read ({type(e).__name__}: {e}). "
        f"Delete it and rebuild: briefing ingest --rebuild seeds/"
    )


def client(settings: Settings, create: bool) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.remote:
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host or "", port=settings.chroma_port, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as e:  # noqa: BLE001 - connection errors come in many types
            raise StoreUnavailableError(
                f"Cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} ({e}). "
                "Start it (chroma run --path index --port PORT) or unset CHROMA_HOST to use the local index."
            ) from e
        return client
    path = settings.index_dir
    if not (path / "chroma.sqlite3").exists() and not create:
        raise IndexNotFoundError(f"No index at {path}/ — run: briefing ingest seeds/")
    if path.exists() and not path.is_dir():
        raise IndexCorruptError(f"{path} is a file, not an index folder — move it away or set BRIEFING_INDEX_DIR")
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:  # chromadb raises many types for a damaged database
        raise IndexCorruptError(corrupt_message(settings, e)) from e
