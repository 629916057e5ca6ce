"""Cells are named by tag, heading or first line, and grouped by headings or step tags."""

from __future__ import annotations

from pathlib import Path

from shipml.notebooks.check import Cell, Notebook, cell_name, group_cells, read_notebook, step_tag

from ..helpers import FIXTURES


def test_a_cell_is_named_by_its_step_tag_then_its_first_line() -> None:
    tagged = Cell(1, "code", "model = fit(x)", tags=("slow", "step:train"))
    plain = Cell(
        2, "code", "\n\n  model = fit(features, target, learning_rate=0.1, n_estimators=500)"
    )
    assert step_tag(tagged) == "train"
    assert cell_name(tagged) == "step:train"
    assert cell_name(plain) == "model = fit(features, target, learning_rate=0.1, n_estimato…"
    assert cell_name(Cell(3, "markdown", "Some text\n## Train the model")) == "Train the model"


def test_the_clean_notebooks_group_by_their_headings() -> None:
    notebook = read_notebook(FIXTURES / "clean_regression" / "house_prices.ipynb")
    groups = [(g.name, g.origin, g.cells) for g in group_cells(notebook)]
    assert groups == [
        ("Load data", "heading", (3, 4)),
        ("Preprocess", "heading", (6,)),
        ("Features", "heading", (8,)),
        ("Train", "heading", (10, 11)),
        ("Predict", "heading", (13,)),
    ]


def test_step_tags_start_groups_and_untagged_cells_follow_them() -> None:
    cells = (
        Cell(1, "code", "import pandas as pd"),
        Cell(2, "code", "raw = load()", tags=("step:ingest",)),
        Cell(3, "code", "raw.head()"),
        Cell(4, "code", "clean = raw.dropna()", tags=("step:preprocess",)),
        Cell(5, "code", "clean = clean[clean.x > 0]", tags=("step:preprocess",)),
        Cell(6, "markdown", "## Train"),
        Cell(7, "code", "model = fit(clean)"),
    )
    groups = [(g.name, g.origin, g.cells) for g in group_cells(Notebook(Path("n.ipynb"), cells))]
    assert groups == [
        (None, "top", (1,)),
        ("ingest", "tag", (2, 3)),
        ("preprocess", "tag", (4, 5)),
        ("Train", "heading", (7,)),
    ]
