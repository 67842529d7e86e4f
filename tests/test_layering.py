"""The arrows of ARCHITECTURE.md: pos/ and drivers/ import no adapter or framework, and no package
imports itself round in a circle.

pos may use drivers.card (the CardRead value type and card-number formats) and nothing else of
drivers; drivers imports nothing of pos. Checked on the source (every import statement, including
ones inside functions) and at run time (importing the engine loads no framework). The cycle check
looks at module-level imports only: an import inside a function is the accepted way to break one.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
ADAPTERS = {"terminal", "server", "sync", "textual", "flask"}
PACKAGES = ("pos", "drivers", "sync", "server", "terminal")
# Known cycles, left for the terminal's rework (another change): the serving screen imports the app
# under TYPE_CHECKING to type `self.app`. Remove the entry when that goes.
ALLOWED_CYCLES: set[frozenset[str]] = set()  # none: screens depend on terminal.window, not on the app


def imports(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((str(path.relative_to(ROOT)), node.module))
    return found


@pytest.mark.parametrize("package", ["pos", "drivers"])
def test_core_packages_import_no_adapter_or_framework(package: str) -> None:
    bad = [(f, m) for f, m in imports(package) if m.split(".")[0] in ADAPTERS]
    assert bad == []


def test_pos_uses_only_the_card_value_type_from_drivers() -> None:
    bad = [(f, m) for f, m in imports("pos") if m.split(".")[0] == "drivers" and m != "drivers.card"]
    assert bad == []


def test_drivers_know_nothing_of_the_engine() -> None:
    assert [(f, m) for f, m in imports("drivers") if m.split(".")[0] == "pos"] == []


def test_sync_does_not_import_the_terminal_or_the_server() -> None:
    assert [(f, m) for f, m in imports("sync") if m.split(".")[0] in {"terminal", "server"}] == []


def test_importing_the_engine_loads_no_framework() -> None:
    code = (
        "import sys, pos.counter, pos.cli, pos.demo, drivers.card\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'textual', 'flask', 'terminal', 'server', 'sync', 'serial', 'nfc'})\n"
        "print(','.join(loaded))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == ""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports at module level (not inside functions; ``if TYPE_CHECKING:``
    imports count: a type-only cycle is still two modules that know each other), relative imports
    resolved; ``from pkg import mod`` counts as ``pkg.mod``."""
    paths = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    modules = {module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for n in _module_level(tree.body):
                if isinstance(n, ast.Import):
                    found |= {a.name for a in n.names}
                elif isinstance(n, ast.ImportFrom):
                    base = n.module or ""
                    if n.level:
                        anchor = package.split(".")
                        anchor = anchor[: len(anchor) - (n.level - 1)]
                        base = ".".join([*anchor, base] if base else anchor)
                    found.add(base)
                    found |= {f"{base}.{a.name}" for a in n.names}
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements run on import: the body, and the bodies of its ``if``/``try`` blocks (guarded and
    ``TYPE_CHECKING`` imports), not of functions or classes."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If):
            out += _module_level(node.body) + _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            out += _module_level(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                out += _module_level(handler.body)
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of two or more modules, as one cycle through it (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_path_through(graph, g) for g in groups]


def _path_through(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """One cycle inside `group`, from its first module back to it, for the failure message."""
    start = min(group)
    seen = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & group):
            if w == start:
                return [*seen[v], start]
            if w not in seen:
                seen[w] = [*seen[v], w]
                queue.append(w)
    return sorted(group)


def test_no_package_imports_itself_round_in_a_circle() -> None:
    found = [c for c in cycles(import_graph()) if frozenset(c) not in ALLOWED_CYCLES]
    assert found == [], "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_the_cycle_check_reports_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
