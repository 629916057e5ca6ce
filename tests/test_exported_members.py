"""Each package's `__all__` is exactly what other packages and users may import from it."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

import shipml

SOURCE = Path(shipml.__file__).parent
PACKAGES = sorted(
    ".".join(("shipml", *init.parent.relative_to(SOURCE).parts))
    for init in SOURCE.rglob("__init__.py")
)


def imported_names(module: Path) -> Iterator[tuple[str, str]]:
    """(module, name) for each `from shipml... import name` in `module`."""
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
            continue
        if node.module == "shipml" or node.module.startswith("shipml."):
            yield from ((node.module, alias.name) for alias in node.names)


def package_of(module_name: str) -> str:
    """The innermost package holding `module_name` ('shipml.project' for its batch module)."""
    while module_name not in PACKAGES:
        module_name = module_name.rpartition(".")[0]
    return module_name


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_exists(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", [])
    assert [name for name in exported if not hasattr(module, name)] == []
    assert exported == sorted(exported, key=_ruff_order), "keep __all__ sorted"


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "shipml.cli"])  # imported by none
def test_what_a_package_imports_for_others_it_exports(package: str) -> None:
    init = SOURCE.joinpath(*package.split(".")[1:], "__init__.py")
    exported = set(getattr(importlib.import_module(package), "__all__", []))
    imported = {name for source, name in imported_names(init) if not _is_module(f"{source}.{name}")}
    assert sorted(imported - exported) == []


def test_other_packages_import_only_exported_names() -> None:
    unexported = []
    for module in SOURCE.rglob("*.py"):
        own = package_of(".".join(("shipml", *module.relative_to(SOURCE).with_suffix("").parts)))
        for source, name in imported_names(module):
            target = package_of(source)
            if target == "shipml" or _top(target) == _top(own):  # inside one top-level package
                continue
            if name not in getattr(importlib.import_module(target), "__all__", []):
                unexported.append(f"{module.relative_to(SOURCE)}: {source}.{name}")
    assert unexported == []


def test_the_top_level_names_are_what_a_users_code_needs() -> None:
    from shipml import Pipeline, Project, Table, read_table, run_window, step, train, validate

    assert callable(run_window) and callable(train) and callable(read_table)
    assert callable(validate) and callable(step)
    assert Pipeline.__name__ == "Pipeline" and Project.__name__ == "Project"
    assert Table.__name__ == "Table"
    assert sorted(dir(shipml)) == sorted(set(dir(shipml)) | set(shipml.__all__))


def _ruff_order(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: SCREAMING_CASE, then CamelCase, then the rest."""
    if name.isupper():
        return 0, name
    return (1, name) if name[:1].isupper() else (2, name)


def _is_module(name: str) -> bool:
    """Whether `name` is a module (what `from package import name` may also import)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent is a module, not a package
        return False


def _top(package: str) -> str:
    """'shipml.notebooks' for 'shipml.notebooks.check'."""
    return ".".join(package.split(".")[:2])
