"""The Chroma client and the plumbing every read and write of the index goes through.

`client(settings, create)` opens a local folder or a server; `pages`, `read_all` and `read_ids`
read a whole collection or a long id list a page at a time (SQLite's variable limit);
`chroma_errors` turns Chroma's errors on a read path into `IndexChangedError`; `where` and
`open_fault` name the index and its faults in messages; `storage_errors` turns a storage
failure into the fault it names; `checked_client` opens an index after checking its layout and
embedding model; `drop_collections` deletes its collections (for `ingest --rebuild`). Only
`rag.index` uses it.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import (
    IndexChangedError,
    IndexCorruptError,
    IndexNotFoundError,
    RagError,
    StoreUnavailableError,
    storage_fault,
)

log = logging.getLogger(__name__)

# Rows per Chroma read or delete. One call over more rows than SQLite's variable limit (32,766)
# fails ("too many SQL variables"), locally and on a server, so every read of a whole collection
# and every call with a long id list goes in pages of this size.
PAGE = 5000
NOTHING_INGESTED = "nothing has been ingested there: ingest your articles first (briefing ingest FOLDER; in Python, BriefingQA.for_corpus(FOLDER))"


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
def storage_errors(settings: Settings, otherwise: Callable[[Exception], RagError]) -> Iterator[None]:
    """Errors of Chroma, its SQLite file or the disk, as the fault they name (a full disk, a
    permission, damage: `rag.errors.storage_fault`), else as `otherwise(error)`."""
    from chromadb.errors import ChromaError

    try:
        yield
    except (ChromaError, sqlite3.Error, OSError) as e:
        raise (storage_fault(e, f"The index at {where(settings)}", rebuild_advice(settings)) or otherwise(e)) from e


def chroma_errors(settings: Settings) -> contextlib.AbstractContextManager[None]:
    """Chroma's errors on a read path, as `IndexChangedError` (the caller reopens and retries)."""
    return storage_errors(
        settings,
        lambda e: IndexChangedError(
            f"The index at {where(settings)} could not be read ({type(e).__name__}: {e}); it may be changing: ask again"
        ),
    )


def where(settings: Settings) -> str:
    if settings.remote:
        return f"Chroma server {settings.chroma_host}:{settings.chroma_port} (collection {settings.collection!r})"
    return f"{settings.index_dir}/"


def rebuild_advice(settings: Settings) -> str:
    """What to do about a damaged index: build it again from the articles."""
    if settings.remote:
        return (
            "Check the Chroma server's logs, or drop the collection and build it again: briefing ingest --rebuild DIR"
        )
    return (
        "Build it again from your articles: briefing ingest --rebuild DIR (this replaces its files; "
        f"to keep them for a look, move {settings.index_dir} away first)"
    )


def open_fault(settings: Settings, e: Exception) -> RagError:
    """The error to show when the index cannot be opened: the fault it names, else damage."""
    place = f"The index at {where(settings)}"
    return storage_fault(e, place, rebuild_advice(settings)) or IndexCorruptError(
        f"{place} cannot be read ({type(e).__name__}: {e}). {rebuild_advice(settings)}"
    )


def remove_chroma_files(folder: Path) -> None:
    """Delete a local index's Chroma files: its database and its segment folders (named by a
    UUID, holding HNSW files). Nothing else in `folder` is touched."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        (folder / f"chroma.sqlite3{suffix}").unlink(missing_ok=True)
    for child in folder.iterdir() if folder.is_dir() else ():
        try:
            uuid.UUID(child.name)
        except ValueError:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)


def _forget_files(folder: Path) -> None:
    """`remove_chroma_files`, and Chroma's cached client for the folder (a failed open or drop
    leaves a broken one behind)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    remove_chroma_files(folder)
    SharedSystemClient.clear_system_cache()


def _collections(chroma: Any) -> set[str]:
    return {c.name if hasattr(c, "name") else str(c) for c in chroma.list_collections()}


def checked_client(settings: Settings, name: str, expected: dict[str, Any], create: bool) -> Any:
    """The client, once the collection `name` is found to have been written with the `expected`
    layout (`schema`) and embedding model (`embed_model`); without it, `IndexNotFoundError` unless
    `create`."""
    chroma = client(settings, create)
    try:
        existing = _collections(chroma)
    except Exception as e:  # chromadb raises many types for a damaged database
        raise open_fault(settings, e) from e
    place = where(settings)
    if name not in existing:
        if not create:
            raise IndexNotFoundError(f"No index at {place} — {NOTHING_INGESTED}")
        return chroma
    meta = chroma.get_collection(name, embedding_function=None).metadata or {}
    if meta.get("schema") != expected["schema"]:
        raise IndexCorruptError(
            f"The index at {place} has layout version {meta.get('schema')!r}; this version of Briefing QA "
            f"reads version {expected['schema']}. Rebuild it: briefing ingest --rebuild seeds/"
        )
    if meta.get("embed_model") != expected["embed_model"]:
        raise IndexCorruptError(
            f"The index at {place} was built with the embedding model {meta.get('embed_model')!r}, but this "
            f"run uses {expected['embed_model']!r}. Rebuild it: briefing ingest --rebuild seeds/"
        )
    return chroma


def drop_collections(settings: Settings, names: Sequence[str]) -> None:
    """Drop the collections `names` that exist. A local
    index too damaged to open or drop loses its Chroma files instead (its database and segment
    folders; nothing else in the folder)."""
    try:
        chroma = client(settings, create=True)
        existing = _collections(chroma)
    except Exception:  # noqa: BLE001 - chromadb raises many types for a damaged database
        folder = settings.index_dir
        if settings.remote or not folder.is_dir() or (folder / "chroma.sqlite3").is_dir():
            raise  # a file or folder in the wrong place: its message says what to move
        _forget_files(folder)
        chroma, existing = client(settings, create=True), set()
    for name in names:
        if name in existing:
            try:
                chroma.delete_collection(name)
            except Exception as e:  # noqa: BLE001 - a damaged database: start from no files
                log.warning("could not drop %s (%s); removing the index's files", name, e)
                _forget_files(settings.index_dir)
                break


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
    if path.exists() and not path.is_dir():
        raise IndexCorruptError(f"{path} is a file, not an index folder — move it away or set BRIEFING_INDEX_DIR")
    if (path / "chroma.sqlite3").is_dir():
        raise IndexCorruptError(
            f"{path / 'chroma.sqlite3'} is a folder where the index's database belongs — move it away, then run "
            "the ingest again"
        )
    if not (path / "chroma.sqlite3").exists() and not create:
        raise IndexNotFoundError(f"No index at {path}/ — {NOTHING_INGESTED}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:  # chromadb raises many types for a damaged database
        raise open_fault(settings, e) from e
