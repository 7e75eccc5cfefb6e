"""The package's imports flow one way, down the pipeline, and no module reaches into another's privates.

serve → evaluation → qa (the facade) → chat → llm → query → index → ingest → types/config/errors/vocab.
A `TYPE_CHECKING` import is a type hint, not an import, and is allowed in any direction.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

LAYERS = ["types", "config", "errors", "vocab", "ingest", "index", "query", "llm", "chat", "qa", "evaluation", "serve"]
RANK = {name: (0 if i < 4 else i - 3) for i, name in enumerate(LAYERS)}  # the four base modules share rank 0
PACKAGE = ROOT / "rag"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported rag module, line) for every runtime import in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hints = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
             for n in ast.walk(node)}  # fmt: skip
    out = []
    for node in ast.walk(tree):
        if id(node) in hints:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rag"):
            out.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.startswith("rag")]
    return out


def _rank(module: str) -> int:
    return RANK[module.split(".")[1]] if module.count(".") else 99  # `rag` itself: the re-exports


def test_imports_flow_down_the_pipeline_and_have_no_cycles() -> None:
    graph: dict[str, set[str]] = {}
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        me = _module(path)
        graph[me] = set()
        for target, line in _imports(path):
            graph[me].add(target)
            if me != "rag" and _rank(target) > _rank(me):
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert upward == []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            assert state.get(nxt) != 1, f"import cycle: {' → '.join([*trail, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


def test_no_private_name_is_used_across_modules() -> None:
    """`obj._name` only where the module defines `_name` itself (its own class's privates)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        own |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                and n.value.id == "self"}  # fmt: skip
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rag"):
                found += [f"{path.relative_to(ROOT)}: imports {a.name}" for a in node.names if a.name.startswith("_")]
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and node.attr not in own):  # fmt: skip
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
