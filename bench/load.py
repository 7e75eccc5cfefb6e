"""Load benchmark: concurrent HTTP clients against a real server on 127.0.0.1.

    python -m bench.load [--clients 50] [--seconds 30]

Starts `python ui.py` (the UI and the bot API, as users run it) on a free loopback port over a
fresh index of `seeds/`, then runs `--clients` concurrent clients for `--seconds` seconds. Each
client loops over the questions of `eval/seeds.jsonl`, alternating `POST /ask` and the
OpenAI-compatible `POST /v1/chat/completions`. Prints requests/s, latency p50/p95/max and the
error count (any status other than 200, or a broken body; the goal is 0), next to the same
server's single-client latency measured first, as the baseline. Traffic goes to 127.0.0.1 only,
and every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from tests.servers import ui_process

ROOT = Path(__file__).resolve().parent.parent
MAX_REQUESTS_PER_CLIENT = 10_000


def questions() -> list[str]:
    rows = [json.loads(line) for line in (ROOT / "eval" / "seeds.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r["question"] for r in rows if r.get("type") == "single"]


def request(client: httpx.Client, url: str, question: str, chat: bool) -> float:
    """One request; returns its seconds, raises on any error."""
    t = time.perf_counter()
    if chat:
        r = client.post(f"{url}/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]})
        r.raise_for_status()
        assert r.json()["choices"][0]["message"]["content"]
    else:
        r = client.post(f"{url}/ask", json={"question": question})
        r.raise_for_status()
        assert "answer" in r.json()
    return time.perf_counter() - t


def run(url: str, clients: int, seconds: float, qs: list[str]) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client_loop(k: int) -> None:
        with httpx.Client(timeout=60) as client:
            for i in range(MAX_REQUESTS_PER_CLIENT):
                if time.monotonic() >= stop:
                    return
                try:
                    took = request(client, url, qs[(k * 7 + i) % len(qs)], chat=(k + i) % 2 == 1)
                    with lock:
                        latencies.append(took)
                except Exception as e:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors.append(f"{type(e).__name__}: {e}"[:200])

    threads = [threading.Thread(target=client_loop, args=(k,)) for k in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=seconds + 120)
    return latencies, errors, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    qs = questions()
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(ROOT / "seeds", Path(tmp) / "corpus")
        env = dict(os.environ, BRIEFING_INDEX_DIR=str(Path(tmp) / "index"), GRADIO_ANALYTICS_ENABLED="False")
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "CHROMA_HOST"):
            env.pop(name, None)  # the offline answerer: this measures the product, not a model
        with ui_process(Path(tmp), "--corpus", "corpus", env=env) as (url, _):
            base, base_errors, _ = run(url, 1, min(5.0, args.seconds), qs)
            lat, errors, wall = run(url, args.clients, args.seconds, qs)
    ms = np.array(lat) * 1000
    one = np.array(base) * 1000
    print(
        f"load: {args.clients} clients for {args.seconds:.0f} s against python ui.py on 127.0.0.1 (/ask and /v1/chat/completions)"
    )
    print(f"  requests        {len(lat)} ok, {len(errors)} errors ({len(base_errors)} in the single-client baseline)")
    print(
        f"  throughput      {len(lat) / wall:.1f} requests/s (single client: {len(base) / min(5.0, args.seconds):.1f}/s)"
    )
    if len(ms):
        print(
            f"  latency         p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms"
        )
    if len(one):
        print(f"  single client   p50 {np.percentile(one, 50):.0f} ms, p95 {np.percentile(one, 95):.0f} ms")
    for e in sorted(set(errors))[:5]:
        print(f"  error: {e}")
    sys.exit(1 if errors or base_errors else 0)


if __name__ == "__main__":
    main()
