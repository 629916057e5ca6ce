"""Small layout rules for generated Python source: import blocks and long literals.

The generated project should read like hand-written code and pass `ruff check`: imports in
three groups (standard library, installed packages, the project's own modules), each sorted.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

LOCAL_MODULES = frozenset({"contracts", "steps", "pipeline", "learned", "notebook_code"})
WIDTH = 100
INDENT = "    "


def import_block(statements: Iterable[str]) -> str:
    """`import`/`from` lines grouped (standard library, packages, project) and sorted."""
    groups: dict[int, list[str]] = {0: [], 1: [], 2: []}
    for statement in dict.fromkeys(statements):
        module = statement.split()[1]
        top = module.split(".")[0]
        group = 0 if top in sys.stdlib_module_names else 2 if top in LOCAL_MODULES else 1
        groups[group].append(_sorted_names(statement))
    blocks = [sorted(lines, key=_import_order) for lines in groups.values() if lines]
    return "\n\n".join("\n".join(lines) for lines in blocks)


def from_import(module: str, names: Iterable[str]) -> str:
    """`from module import a, b` with the names in ruff's order."""
    return f"from {module} import {', '.join(sorted(set(names), key=_name_order))}"


def python_literal(value: Any, indent: str = "") -> str:
    """A list, dict or string as Python source, one item per line when it is long."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        items = [python_literal(v) for v in value]
        opening, closing = "[", "]"
    else:
        items = [f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()]
        opening, closing = "{", "}"
    flat = f"{opening}{', '.join(items)}{closing}"
    if len(indent) + len(flat) + 30 <= WIDTH:
        return flat
    inner = "".join(f"{indent}{INDENT}{item},\n" for item in items)
    return f"{opening}\n{inner}{indent}{closing}"


def _sorted_names(statement: str) -> str:
    if not statement.startswith("from ") or "(" in statement:
        return statement
    head, _, names = statement.partition(" import ")
    return f"{head} import {', '.join(sorted(names.split(', '), key=_name_order))}"


def _import_order(statement: str) -> tuple[int, str]:
    """Plain `import x` lines first, then `from x import y`, each by module."""
    return (0 if statement.startswith("import ") else 1, statement.split()[1].lower())


def _name_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then the rest (ruff's order-by-type)."""
    bare = name.split(" as ")[0]
    kind = 0 if bare.isupper() and len(bare) > 1 else 1 if bare[:1].isupper() else 2
    return kind, bare
