"""The arrows of DESIGN.md's layout: each package imports only the packages below it.

cli -> serving, orchestration, notebooks -> project -> config -> io, alerting ->
pipeline, monitoring, versioning, store -> contracts -> errors. Imports inside
`if TYPE_CHECKING:` are annotations only and are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import shipml

SOURCE = Path(shipml.__file__).parent

# What each top-level part of shipml may import (besides itself). Modules at the top
# (errors.py, windows.py, ...) count as parts of their own name.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "windows": {"errors"},
    "fingerprints": set(),
    "logs": set(),
    "_settings": {"windows", "errors"},
    "contracts": {"errors"},
    "pipeline": {"contracts", "fingerprints", "errors"},
    "monitoring": {"errors"},
    "store": {"errors"},
    "versioning": {"errors"},
    "io": {"_settings", "contracts", "versioning", "fingerprints", "windows", "errors"},
    "alerting": {"_settings", "monitoring", "store", "errors"},
    "config": {"_settings", "alerting", "contracts", "io", "monitoring", "windows", "errors"},
    "project": {
        "config",
        "io",
        "alerting",
        "pipeline",
        "monitoring",
        "versioning",
        "store",
        "contracts",
        "windows",
        "fingerprints",
        "logs",
        "errors",
    },
    "scaffold": {"errors"},
}
BELOW_THE_APPLICATIONS = {"project", *ALLOWED["project"]}
ALLOWED["serving"] = BELOW_THE_APPLICATIONS
ALLOWED["orchestration"] = BELOW_THE_APPLICATIONS
ALLOWED["notebooks"] = {"contracts", "scaffold", "errors"}
ALLOWED["cli"] = {part for part in ALLOWED if part != "cli"} | {"serving", "orchestration"}
ALLOWED["__init__"] = {"contracts", "errors", "pipeline", "project", "windows"}

# Libraries that would make a package do I/O it must not do.
_IO_LIBRARIES = {"sqlalchemy", "httpx", "mlflow", "fastapi", "starlette", "plotly"}
FORBIDDEN_LIBRARIES = {
    "contracts": _IO_LIBRARIES,
    "pipeline": _IO_LIBRARIES,
    "monitoring": _IO_LIBRARIES | {"prometheus_client"},
}


def part_of(module: Path) -> str:
    """'project' for shipml/project/batch.py, 'errors' for shipml/errors.py."""
    relative = module.relative_to(SOURCE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imports_of(module: Path) -> Iterator[str]:
    """Every module name `module` imports, at any depth, except under `if TYPE_CHECKING:`."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


MODULES = sorted(SOURCE.rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(SOURCE)))
def test_a_module_imports_only_the_layers_below_it(module: Path) -> None:
    part = part_of(module)
    wrong = set()
    for name in imports_of(module):
        top, _, rest = name.partition(".")
        if top == "shipml" and rest:
            imported = rest.partition(".")[0]
            if imported != part and imported not in ALLOWED[part]:
                wrong.add(name)
        elif top in FORBIDDEN_LIBRARIES.get(part, set()):
            wrong.add(name)
    assert not wrong, f"{part} must not import {sorted(wrong)}"


def test_nothing_imports_the_cli() -> None:
    importers = [
        str(module.relative_to(SOURCE))
        for module in MODULES
        if part_of(module) != "cli"
        and any(name.startswith("shipml.cli") for name in imports_of(module))
    ]
    assert importers == []


def test_every_part_of_shipml_has_its_place_in_the_layers() -> None:
    assert {part_of(module) for module in MODULES} <= set(ALLOWED)
