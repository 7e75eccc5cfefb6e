"""Scale benchmark: corpora of N chunks built from the vendored SQuAD text, through the public API.

    python -m bench.scale [--chunks 1000 10000] [--server | --also-server] [--keep DIR] [--skip-entities]
    python -m bench.scale --probe DIR [--also-server]

`--keep DIR` builds in DIR (one size) and leaves it there; `--probe DIR` runs only the probes
below on an index kept that way (a 100k build takes 40–80 minutes, its probes one).
`--skip-entities` ingests without spaCy's entity pass (answers then have no entities to type-
match, but what opening, retrieving and writing cost is the same): the row says so, and its
ingest figures are not those of a real ingest.

For each size it writes articles made of SQuAD paragraphs (each article a different draw and
order of paragraphs under its own headline, so no two are the same text), ingests them with
`BriefingQA.ingest` in ten equal parts, and prints:

- ingest chunks/s, and the cost per 1k chunks of the last part against the first (1.0 = linear);
- disk MB of the index folder (and of the Chroma server's folder with `--server`);
- cold start: a new process that opens the index and answers one question (wall seconds, its
  RSS after the answer and its peak RSS);
- warm `ask` p50 / p95 over 100 questions, next to a bare Chroma top-k query for the same
  question vectors on the same collection (the floor any answer pays);
- a one-article ingest into the full index, five times (median seconds, and how much of it was
  embedding the article), and this long-lived process's RSS after the 100 questions and the five
  ingests.

Above 5,000 chunks the embedder is `HashWords` (deterministic, no model: it measures the
pipeline, not MiniLM); at or below, the real bundled encoder. Everything runs on 127.0.0.1;
with `--server`, a `chroma run` started here on a free loopback port holds the collections.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.evaluation.squad import DEFAULT, load
from rag.index.chroma import lexicon_path

REAL_MODEL_UP_TO = 5000
_PARTS = 10


class HashWords:
    """Bag of hashed words → unit vector (384-d): deterministic, no model file, ~0.1 ms a text.
    A plain encoder (`model_name`, `encode`), like `rag.index.encoder.MiniLM`, so the cold-start
    process imports what a user's would."""

    model_name = "hash-words-384"

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little") % 384] += 1.0
            out[i, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def embedder_for(chunks: int) -> Any:
    if chunks > REAL_MODEL_UP_TO:
        return HashWords()
    from rag.index.encoder import MiniLM

    return MiniLM()


def paragraphs() -> list[str]:
    return [p["context"] for article in load(DEFAULT) for p in article["paragraphs"]]


def questions() -> list[str]:
    qs = [qa["question"] for article in load(DEFAULT) for p in article["paragraphs"] for qa in p["qas"]]
    return random.Random(1).sample(qs, 100)


def write_corpus(folder: Path, chunks: int, seed: int = 0) -> list[Path]:
    """Articles of 3–6 SQuAD paragraphs, each a different draw, until they hold `chunks` chunks."""
    from rag.ingest.chunk import chunk_article
    from rag.ingest.read import build_article

    folder.mkdir(parents=True, exist_ok=True)
    pool, rng = paragraphs(), random.Random(seed)
    files, made, n = [], 0, 0
    while made < chunks:
        text = f"Briefing {seed}-{n}: collected notes\n\n" + "\n\n".join(rng.sample(pool, rng.randint(3, 6))) + "\n"
        path = folder / f"{n:06d}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
        made += len(chunk_article(build_article(str(path), text, "text")))
        n += 1
    return files


def rss_mb(key: str = "VmRSS") -> float:
    """This process's resident set in MB; `key="VmHWM"` its peak. Not `getrusage`'s `ru_maxrss`:
    Linux carries the parent's peak over `fork` + `exec` into it, so a child started by a large
    benchmark process reported that process's RSS as its own peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_chroma(folder: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen(
        [str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("chroma run did not start within 60 s")


def measure(chunks: int, work: Path, server: bool, also_server: bool = False) -> list[dict[str, Any]]:
    """Build a corpus of `chunks` chunks and ingest it; then probe it (`probe`) through local
    Chroma, or through a `chroma run` holding the collections (`server`). With `also_server`,
    the locally built collections are then served by `chroma run` from the same folder and
    probed again: server-mode figures at a size whose ingest is too long to run twice."""
    from rag import BriefingQA

    files = write_corpus(work / "corpus", chunks)
    extra = write_corpus(work / "extra", 40, seed=1)[:5]
    settings = Settings(index_dir=work / "index")
    proc = None
    if server:
        proc, port = start_chroma(work / "server")
        settings = settings.with_(chroma_host="127.0.0.1", chroma_port=port)
    try:
        qa = BriefingQA(settings, embedder=embedder_for(chunks))
        parts = [files[i::_PARTS] for i in range(_PARTS)]
        per_part, total_chunks, start = [], 0, time.perf_counter()
        for part in parts:
            t = time.perf_counter()
            report = qa.ingest(part)
            per_part.append((time.perf_counter() - t, report.chunks_embedded))
            total_chunks += report.chunks_embedded
        ingest_s = time.perf_counter() - start
        qa._index.store.close()  # `chroma run` may open this folder next
        first, last = (s / max(c, 1) * 1000 for s, c in (per_part[0], per_part[-1]))
        built = {
            "chunks": total_chunks,
            "articles": len(files),
            "embedder": embedder_for(chunks).model_name,
            "ingest_chunks_per_s": total_chunks / ingest_s,
            "ingest_s_per_1k_first_part": first,
            "ingest_s_per_1k_last_part": last,
            "linearity": last / first if first else 0.0,
            "mode": "server" if server else "local",
        }
        rows = [built | probe(settings, chunks, extra[: len(extra) // 2 if also_server else len(extra)])]
        rows[0]["disk_mb"] = disk_mb(settings.index_dir) + (disk_mb(work / "server") if server else 0.0)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    if also_server and not server:
        rows.append(rows[0] | probe_served(settings, chunks, extra[len(extra) // 2 :]))
    return rows


def probe_served(settings: Settings, chunks: int, extra: list[Path]) -> dict[str, Any]:
    """`probe` through a `chroma run` serving the local index folder of `settings`."""
    proc, port = start_chroma(settings.index_dir)
    try:
        remote = settings.with_(chroma_host="127.0.0.1", chroma_port=port)
        # the lexical index is a cache kept per server address; the collections and their
        # generation token are the local ones, so the local lexicon is that server's too
        shutil.copy(lexicon_path(settings), lexicon_path(remote))
        return {"mode": "server (same collections)"} | probe(remote, chunks, extra)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def measure_kept(work: Path, also_server: bool) -> list[dict[str, Any]]:
    """The probes alone, on the index a `--keep` run left in `work` (its ingest figures were
    printed then)."""
    from rag.index.lexical import LexicalIndex
    from rag.index.terms import Terms

    settings = Settings(index_dir=work / "index")
    lexicon = LexicalIndex(lexicon_path(settings), Terms())
    chunks = lexicon.count()
    lexicon.close()
    if not chunks:
        raise SystemExit(f"no index to probe in {work}: build one with --keep {work}")
    # new articles each probe (the last probe's are indexed now): a folder and a draw of their own
    extra = write_corpus(work / f"extra-{chunks}", 40, seed=chunks)[:6]  # medians of three
    half = len(extra) // 2 if also_server else len(extra)
    rows = [
        {"chunks": chunks, "mode": "local", "disk_mb": disk_mb(settings.index_dir)}
        | probe(settings, chunks, extra[:half])
    ]
    if also_server:
        rows.append(rows[0] | probe_served(settings, chunks, extra[half:]))
    return rows


def probe(settings: Settings, chunks: int, extra: list[Path]) -> dict[str, Any]:
    """Cold start (a new process that opens the index and answers once), then a second new
    process's warm figures (`child_probe`)."""
    root = Path(__file__).resolve().parent.parent
    wire = settings.model_dump_json(include={"chroma_host", "chroma_port", "collection"})
    out = {}
    for flag, args in (("--child-ask", [questions()[0]]), ("--child-probe", [json.dumps([str(p) for p in extra])])):
        child = subprocess.run(
            [sys.executable, "-m", "bench.scale", flag, str(settings.index_dir), str(chunks), *args, wire],
            capture_output=True, text=True, timeout=3600, cwd=root,
        )  # fmt: skip
        if child.returncode != 0:
            raise SystemExit(f"the {flag[8:]} process failed:\n{child.stderr[-2000:]}")
        out |= json.loads(child.stdout.strip().splitlines()[-1])
    return out


def _open(index: str, chunks: int, settings_json: str) -> Any:
    from rag import BriefingQA

    settings = Settings(**json.loads(settings_json)).with_(index_dir=Path(index))
    return BriefingQA.open(index, settings=settings, embedder=embedder_for(chunks))


def child_ask(index: str, chunks: int, question: str, settings_json: str) -> None:
    """Run in a new process: open, answer once, print seconds and RSS (after, and peak) as JSON."""
    start = time.perf_counter()
    qa = _open(index, chunks, settings_json)
    qa.ask(question, offline=True)
    seconds = time.perf_counter() - start
    print(json.dumps({"cold_start_s": seconds, "cold_rss_mb": rss_mb(), "cold_peak_rss_mb": rss_mb("VmHWM")}))


def child_probe(index: str, chunks: int, extra_json: str, settings_json: str) -> None:
    """Run in a new process, as a long-lived server would: 100 questions (warm p50 / p95) next
    to a bare Chroma top-k query for the same question vectors, then one-article ingests
    (median seconds, and how much of it was embedding), then this process's RSS."""
    from rag.index.encoder import encode
    from rag.ingest.chunk import chunk_article
    from rag.ingest.read import read_article

    qa = _open(index, chunks, settings_json)
    qs = questions()
    qa.ask(qs[0], offline=True)  # warm: model, index open
    times = []
    for q in qs:
        t = time.perf_counter()
        qa.ask(q, offline=True)
        times.append(1000 * (time.perf_counter() - t))
    vectors = encode(qa.embedder, qs)
    store = qa._index.store  # the benchmark compares against the bare collection underneath
    bare = []
    for v in vectors:
        t = time.perf_counter()
        store._chunks.query(query_embeddings=[v.tolist()], n_results=5, include=["documents", "metadatas"])
        bare.append(1000 * (time.perf_counter() - t))
    one, embed_s = [], []
    for path in map(Path, json.loads(extra_json)):
        t = time.perf_counter()
        qa.ingest([path])
        one.append(time.perf_counter() - t)
        sentences = [s.text for c in chunk_article(read_article(str(path))) for s in c.sentences]
        t = time.perf_counter()
        encode(qa.embedder, sentences)
        embed_s.append(time.perf_counter() - t)
    qa.ask(qs[0], offline=True)  # the ingests are seen
    times.sort()
    bare.sort()
    print(json.dumps({
        "ask_p50_ms": statistics.median(times),
        "ask_p95_ms": times[int(0.95 * len(times)) - 1],
        "bare_chroma_p50_ms": statistics.median(bare),
        "bare_chroma_p95_ms": bare[int(0.95 * len(bare)) - 1],
        "one_article_ingest_s": statistics.median(one),
        "one_article_embed_s": statistics.median(embed_s),
        "long_lived_rss_mb": rss_mb(),
    }))  # fmt: skip


def main() -> None:
    children = {"--child-ask": child_ask, "--child-probe": child_probe}
    if len(sys.argv) > 1 and sys.argv[1] in children:
        children[sys.argv[1]](sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--server", action="store_true", help="keep the collections in a local `chroma run`")
    ap.add_argument(
        "--also-server",
        action="store_true",
        help="then serve the locally built collections by `chroma run` and probe again",
    )
    ap.add_argument("--keep", type=Path, help="build in this folder (one size) and keep it")
    ap.add_argument("--probe", type=Path, help="only probe the index kept in this folder by --keep")
    ap.add_argument("--skip-entities", action="store_true", help="ingest without the entity pass")
    args = ap.parse_args()
    if args.keep and len(args.chunks) != 1:
        ap.error("--keep takes one size")
    if args.skip_entities:
        import rag.index.build

        rag.index.build.annotate = lambda chunks: list(chunks)  # this process's ingests only
    rows = []
    if args.probe:
        for row in measure_kept(args.probe, args.also_server):
            rows.append(row)
            print(json.dumps(row), flush=True)
    for n in [] if args.probe else args.chunks:
        work = args.keep or Path(tempfile.mkdtemp(prefix=f"scale-{n}-"))
        try:
            for row in measure(n, work, args.server, args.also_server):
                rows.append(row | {"entities": not args.skip_entities})
                print(json.dumps(rows[-1]), flush=True)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    print(
        "\nscale (ask and bare Chroma query over the same 100 SQuAD questions; warm figures from a second new process)"
    )
    head = ("chunks", "Chroma", "ingest/s", "last/first 1k", "disk MB", "cold s", "cold RSS (peak)", "ask p50/p95",
            "bare p50/p95", "1-article s (embed)", "RSS after")  # fmt: skip
    print(" | ".join(head))
    for r in rows:
        built = f"{r['ingest_chunks_per_s']:.0f} | {r['linearity']:.2f}" if "linearity" in r else "– | –"
        print(
            f"{r['chunks']:,} | {r['mode']} | {built} | {r['disk_mb']:.0f} | "
            f"{r['cold_start_s']:.2f} | {r['cold_rss_mb']:.0f} ({r['cold_peak_rss_mb']:.0f}) MB | {r['ask_p50_ms']:.0f}/{r['ask_p95_ms']:.0f} ms | "
            f"{r['bare_chroma_p50_ms']:.1f}/{r['bare_chroma_p95_ms']:.1f} ms | "
            f"{r['one_article_ingest_s']:.2f} ({r['one_article_embed_s']:.2f}) | {r['long_lived_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
