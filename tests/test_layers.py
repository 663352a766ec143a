"""Layers point down, and no module imports itself back: a static read of every import
statement in payorxl/ (module level and inside functions alike)."""
from __future__ import annotations

import ast
from pathlib import Path

import payorxl

ROOT = Path(payorxl.__file__).parent

# Who may import whom (by top-level part of payorxl): a layer sees only the layers below.
BELOW = {
    "model": set(),
    "errors": set(),
    "codec": {"model"},
    "rules": {"model"},
    "conversion": {"model", "codec", "errors"},
    "engine": {"model", "codec", "rules", "conversion", "errors", "engine"},
    "validate": {"model", "codec", "rules", "conversion", "errors", "engine"},
    "x12": {"model", "codec", "rules", "conversion", "errors", "x12"},
    "workbook": {"model", "codec", "rules", "conversion", "errors", "engine", "workbook"},
}
WORKFLOWS = {"pipeline", "importer", "remits", "report", "rollup", "cluster", "demo", "pseudonym", "libreoffice",
             "excel", "cli"}


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join(["payorxl", *parts])


def _imports(path: Path) -> set[str]:
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n.startswith("payorxl")}
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in ROOT.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        # keep only real modules/packages (from x import name may name a function)
        graph[name] = {t for t in _imports(path) if t in files and t != name}
    return graph


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "payorxl"


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt.startswith(node + ".") or node == "payorxl":
                continue          # a package importing its own submodules is not a cycle
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if not state.get(nxt):
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node)


def test_layers_point_down():
    wrong = []
    for module, targets in _graph().items():
        layer = _layer(module)
        if layer not in BELOW:
            assert layer in WORKFLOWS or layer in ("payorxl", "__main__"), f"{module}: which layer is it?"
            continue
        for t in targets:
            if _layer(t) not in BELOW[layer] and _layer(t) != "payorxl":
                wrong.append(f"{module} imports {t}")
    assert not wrong, "\n".join(sorted(wrong))
