"""How many article titles ingest gets wrong, on a corpus whose files give the headline on their
first line (the BBC articles in `../shared/news`): `python -m rag.evaluation.titles [DIR]`.

Prints the count and every miss (file, headline, title found). Files ingest skips are counted
apart. Reads the files only; builds no index.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rag.errors import SkipFile
from rag.ingest.read import read_article

DEFAULT = Path(__file__).resolve().parents[2].parent / "shared" / "news" / "bbc"


def main(argv: list[str] | None = None) -> int:
    folder = Path((argv or sys.argv[1:] or [str(DEFAULT)])[0])
    files = sorted(folder.rglob("*.txt"))
    if not files:
        print(f"no .txt files under {folder}")
        return 1
    wrong, skipped = [], 0
    for path in files:
        try:
            article = read_article(str(path))
        except SkipFile:
            skipped += 1
            continue
        headline = article.text.strip().split("\n", 1)[0].strip()
        if article.title != headline:
            wrong.append((path, headline, article.title))
    for path, headline, title in wrong:
        print(f"{path}: headline {headline!r}, title {title!r}")
    print(f"titles: {len(wrong)} wrong of {len(files) - skipped} articles ({skipped} files skipped by ingest)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
