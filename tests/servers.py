"""Servers on 127.0.0.1 for tests and benchmarks: an ASGI app in a thread, or `python ui.py` as a process."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app: Any) -> Iterator[str]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def process(
    command: list[str], ready: str, what: str, timeout: float, log: Path | None = None, **popen: Any
) -> Iterator[subprocess.Popen]:
    """`command` as a process (its output appended to `log`, or discarded), yielded once GET
    `ready` answers 200; stopped afterwards (terminate, then kill after 20 s)."""
    with open(log, "ab") if log is not None else contextlib.nullcontext(subprocess.DEVNULL) as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, **popen)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(ready, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start (exit code {proc.poll()})")
            time.sleep(0.3)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def ui_process(folder: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """`python ui.py ARGS` run from `folder` on a free loopback port, as users run it; yields
    (base url, process) once `/health` answers, and stops the process afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(ROOT / "ui.py"), "--port", str(port), *args]
    with process(command, f"{url}/health", "python ui.py", 180, cwd=folder, env=env) as proc:
        yield url, proc
