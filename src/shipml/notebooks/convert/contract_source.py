"""contracts.py of a converted project: every contract inferred as `shipml contract infer` does.

Each contract's source comes from `infer_contract` on the captured rows (columns renamed to
valid field names where needed); the sources are merged into one module, a contract that
extends another (the label added) subclasses it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

from shipml.contracts.infer import infer_contract
from shipml.notebooks.convert.project_spec import ContractSpec
from shipml.notebooks.convert.rewrite import Edit, replace, source_of

_STANDARD_MODULES = ("datetime", "typing")


def contracts_source(
    specs: Sequence[ContractSpec], renames: Mapping[str, str], notebook: str
) -> str:
    """The source of contracts.py."""
    imported: dict[str, set[str]] = {}
    classes = []
    for spec in specs:
        source = infer_contract(spec.frame.rename(columns=dict(renames)), spec.name)
        tree = ast.parse(source)
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.setdefault(node.module, set()).update(a.name for a in node.names)
            elif isinstance(node, ast.ClassDef):
                classes.append(_adjusted_class(source, node, spec))
    header = [
        '"""The rows crossing each boundary of the pipeline, one Pydantic model per shape.',
        "",
        f"Inferred by shipml from the tables {notebook} produced when it ran on its own data;",
        'review them (see CONVERSION.md)."""',
        "",
    ]
    return "\n".join([*header, *_import_lines(imported), "", "", "\n\n\n".join(classes)]) + "\n"


def _adjusted_class(source: str, node: ast.ClassDef, spec: ContractSpec) -> str:
    """The inferred class with the spec's docstring and, for an extension, its base."""
    rows = len(spec.frame)
    text = source_of(source, node)
    tree = ast.parse(text)
    cls = tree.body[0]
    assert isinstance(cls, ast.ClassDef)
    edits = [Edit(cls.body[0], f'"""{spec.description} Inferred from {rows:,} rows."""')]
    if spec.base is not None:
        edits.append(Edit(cls.bases[0], spec.base))
    return replace(text, edits)


def _import_lines(imported: Mapping[str, set[str]]) -> list[str]:
    standard = [m for m in _STANDARD_MODULES if m in imported]
    others = sorted(m for m in imported if m not in _STANDARD_MODULES)
    lines = [f"from {m} import {', '.join(sorted(imported[m]))}" for m in standard]
    if lines and others:
        lines.append("")
    lines += [f"from {m} import {', '.join(sorted(imported[m]))}" for m in others]
    return lines
