"""Files added through the UI: only what the web server itself received as an upload, copied into
the corpus folder under a safe name.

The browser sends the server-side path of an uploaded file, and a crafted request can name any
path instead (`/etc/passwd`, `~/.ssh/id_rsa`, the index itself). `accept_upload` therefore takes
a file only when its real path (symlinks resolved) lies inside the web framework's upload folder,
checks its size and type, and copies it into the corpus folder under a sanitised name that cannot
leave that folder; a name already used by other content gets a `-2`, `-3`… suffix, so nothing is
overwritten. This module does not ingest anything and imports no web framework.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from rag.errors import InputError
from rag.ingest.read import SUFFIXES

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


def safe_name(name: str) -> str:
    """A file name that cannot leave the corpus folder: no path parts, no odd characters. Letters
    of every script stay ("доклад.txt", "报告.md"); anything else but digits, ".", "_" and "-"
    becomes "_"."""
    base = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    stem, suffix = os.path.splitext(base)
    if suffix.lower() not in SUFFIXES:
        raise InputError(f"{name}: only {', '.join(sorted(SUFFIXES))} files can be added")
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("._-") or "article"
    return stem[:80] + suffix.lower()


def inside(path: Path, folder: Path) -> bool:
    """`path` lies inside `folder`, both with symlinks resolved."""
    return Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(folder)))


def accept_upload(path: str, upload_dir: str | os.PathLike[str], corpus: Path, *, name: str | None = None) -> Path:
    """Copy the uploaded file at `path` into `corpus`; returns its new path.

    `InputError` when the file is not inside `upload_dir` (not an upload this server received),
    is not a regular file, is too large, or is not .txt/.md/.html. `name` is the name the user
    gave the file (default: the uploaded file's own name)."""
    original = Path(path)
    if not inside(original, Path(upload_dir)):
        raise InputError(f"{original.name}: refused, only files uploaded through this page can be added")
    if not original.is_file():
        raise InputError(f"{original.name}: refused, not a regular file")
    return store_upload(original, corpus, name=name)


def store_upload(original: Path, corpus: Path, *, name: str | None = None) -> Path:
    """Copy `original` into `corpus` (size- and type-checked) under a safe, unused name."""
    size = original.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        raise InputError(f"{original.name} is {size:,} bytes; the limit is {MAX_UPLOAD_BYTES:,}")
    clean = safe_name(name or original.name)
    data = original.read_bytes()
    corpus.mkdir(parents=True, exist_ok=True)
    target = corpus / clean
    n = 1
    while target.is_symlink() or (target.exists() and target.read_bytes() != data):
        n += 1
        target = corpus / f"{Path(clean).stem}-{n}{Path(clean).suffix}"
    if Path(os.path.realpath(target)).parent != Path(os.path.realpath(corpus)):
        raise InputError(f"{original.name}: refused, it would be stored outside the corpus folder")
    target.write_bytes(data)
    return target


def retire(source: str, corpus: Path) -> Path | None:
    """Move a removed article's file out of the way, into `corpus/.removed/` (ingest skips hidden
    folders), so rebuilding the index from the corpus does not bring it back and nothing is
    deleted. Files outside `corpus` are left alone (returns None)."""
    path = Path(source)
    if not path.is_file() or path.is_symlink() or not inside(path, corpus):
        return None
    target_dir = corpus / ".removed"
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    n = 1
    while target.exists():
        n += 1
        target = target_dir / f"{path.stem}-{n}{path.suffix}"
    return Path(path.replace(target))


def discard(path: Path, corpus: Path) -> None:
    """Delete a file an upload stored in `corpus` that the ingest then refused (an empty file, a
    renamed binary): the folder keeps only articles. Anything else is left alone."""
    if path.is_file() and not path.is_symlink() and inside(path, corpus):
        path.unlink()
