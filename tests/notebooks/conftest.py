"""Fixtures for the notebook tests: small notebooks on disk, the CLI in-process."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from .helpers import CellSpec, notebook_json


@pytest.fixture
def write_notebook(tmp_path: Path) -> Callable[..., Path]:
    """Write a notebook made of the given cells to a file and return its path."""

    def write(cells: Sequence[CellSpec], name: str = "notebook.ipynb", **options: str) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(notebook_json(cells, **options)), encoding="utf-8")
        return path

    return write


@pytest.fixture
def shipml() -> Callable[..., Result]:
    """Invoke the `shipml notebook ...` commands in-process."""
    # Imported here: importing shipml.cli loads every command module, which the static
    # analysis tests do not need.
    from shipml.cli.notebook import register

    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["notebook", *args])

    return invoke
