"""The arrows of ARCHITECTURE.md: pos/ and drivers/ import no adapter or framework.

pos may use drivers.card (the CardRead value type and card-number formats) and nothing else of
drivers; drivers imports nothing of pos. Checked on the source (every import statement, including
ones inside functions) and at run time (importing the engine loads no framework).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
ADAPTERS = {"terminal", "server", "sync", "textual", "flask"}


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
