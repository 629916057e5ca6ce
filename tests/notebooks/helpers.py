"""Helpers for the notebook tests: the fixture folder, notebook JSON, findings in short."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shipml.notebooks import Finding, check_notebook, read_notebook

FIXTURES = Path(__file__).parent / "fixtures"

# A code cell as (source, execution count) or (source, count, tags); a str is a markdown cell.
CellSpec = str | tuple[str, int | None] | tuple[str, int | None, list[str]]


def notebook_json(cells: Sequence[CellSpec], language: str = "python") -> dict:
    """An nbformat 4 document with `cells`."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": language}
        },
        "cells": [_cell(spec, number) for number, spec in enumerate(cells, 1)],
    }


def _cell(spec: CellSpec, number: int) -> dict:
    if isinstance(spec, str):
        return {"id": f"c{number}", "cell_type": "markdown", "metadata": {}, "source": spec}
    source, count, *rest = spec
    return {
        "id": f"c{number}",
        "cell_type": "code",
        "metadata": {"tags": rest[0]} if rest else {},
        "execution_count": count,
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }


def findings_of(path: Path) -> list[Finding]:
    """The findings `shipml notebook check` reports for the notebook at `path`."""
    return check_notebook(read_notebook(path)).findings


def summary(findings: Sequence[Finding]) -> list[tuple[int, int | None, str, list[str]]]:
    """Each finding as (cell, line, kind, names), easy to compare in full."""
    return [(f.cell, f.line, f.kind.value, f.names) for f in findings]
