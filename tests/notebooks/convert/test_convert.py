"""`shipml notebook convert`: small notebooks converted for real, and the ones it refuses.

The refusals name each cell and the reason; nothing is written for a notebook it refuses.
The end-to-end conversions of the clean fixture notebooks are in test_convert_projects.py.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from shipml.notebooks import NotConvertible, convert_notebook
from shipml.notebooks.convert.adaptations import keeping_row_index, without_label_filters
from shipml.notebooks.convert.rewrite import Snippet

from ..helpers import FIXTURES

LOAD = (
    "import pandas as pd\n"
    "from sklearn.linear_model import LinearRegression\n\n"
    'readings = pd.read_csv("readings.csv")'
)


def write_readings(directory: Path, rows: int = 60) -> Path:
    """Meter readings: the energy used grows with the load and the hours."""
    rng = np.random.default_rng(0)
    load = rng.uniform(1, 10, rows).round(2)
    hours = rng.integers(1, 24, rows)
    energy = (3 * load + 0.5 * hours + rng.normal(0, 1, rows)).round(3)
    path = directory / "readings.csv"
    pd.DataFrame(
        {
            "meter": [f"M{i:03d}" for i in range(rows)],
            "load": load,
            "hours": hours,
            "energy": energy,
        }
    ).to_csv(path, index=False)
    return path


def reasons(notebook: Path, out: Path, **options: float) -> list[tuple[int, int | None, str]]:
    """The (cell, line, reason) of each blocker when converting `notebook` is refused."""
    with pytest.raises(NotConvertible) as refused:
        convert_notebook(notebook, out, **options)
    assert not out.exists(), "a refused conversion must write nothing"
    return [(b.cell, b.line, b.reason) for b in refused.value.blockers]


def test_a_notebook_with_tagged_cells_becomes_a_project_that_passes_its_tests(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    write_readings(tmp_path)
    notebook = write_notebook(
        [
            (LOAD, 1, ["step:load"]),
            ('enriched = readings.assign(per_hour=readings["load"] / readings["hours"])', 2,
             ["step:enrich"]),
            (('X = enriched[["load", "hours", "per_hour"]]\ny = enriched["energy"]\n'
             "model = LinearRegression().fit(X, y)"), 3, ["step:fit"]),
            ("predicted = model.predict(X.head(10))\npredicted", 4, ["step:score"]),
        ],
        name="meters.ipynb",
    )  # fmt: skip

    conversion = convert_notebook(notebook, tmp_path / "meters")

    assert conversion.verification is not None and conversion.verification.passed, (
        conversion.verification.output if conversion.verification else "tests not run"
    )
    project = tmp_path / "meters"
    settings = tomllib.loads((project / "shipml.toml").read_text())
    assert settings["training"]["target"] == "energy"
    assert settings["training"]["task"] == "regression"
    pipeline = (project / "pipeline.py").read_text()
    assert "transforms=[enrich]" in pipeline
    steps = (project / "steps.py").read_text()
    assert 'enriched = readings.assign(per_hour=readings["load"] / readings["hours"])' in steps
    assert "predicted = model.estimator.predict(X_prepared)" in steps
    written = pd.read_csv(project / "data" / "train.csv")
    assert written.equals(pd.read_csv(tmp_path / "readings.csv"))
    todo = (project / "CONVERSION.md").read_text().split("## TODO")[1]
    assert "no identifier column" in todo and "holds out no test rows" in todo


def test_a_messy_notebook_is_refused_cell_by_cell_and_nothing_is_written(
    shipml: Callable[..., Result], tmp_path: Path
) -> None:
    out = tmp_path / "churn"

    result = shipml("convert", str(FIXTURES / "churn_messy.ipynb"), "--out", str(out))

    assert result.exit_code == 1
    output = result.output
    assert "nothing written" in output and not out.exists()
    # the data is read from a path on another machine: that stops the conversion ...
    assert "cell 5 line 1: absolute_path" in output
    # ... while shell commands, magics and file writes are left out, not reasons to refuse
    for listed in ("shell_command", "magic", "star_import", "to_csv"):
        assert listed not in output


def test_changes_in_place_across_cells_are_no_reason_to_refuse(tmp_path: Path) -> None:
    found = reasons(FIXTURES / "house_prices_messy.ipynb", tmp_path / "houses")

    assert not [reason for _, _, reason in found if "mutated" in reason]
    assert [(cell, line) for cell, line, _ in found] == [(12, 2)]  # a cell that does not parse


def test_a_cell_that_fails_when_the_notebook_runs_is_named_with_its_error(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    write_readings(tmp_path)
    notebook = write_notebook(
        [
            (LOAD, 1),
            "## Prepare",
            ('prepared = readings.assign(double=readings["missing"] * 2)', 2),
            "## Fit",
            ('model = LinearRegression().fit(prepared[["double"]], prepared["energy"])', 3),
        ]
    )

    [(cell, line, reason)] = reasons(notebook, tmp_path / "out")

    assert (cell, line) == (3, 1)
    assert "fails when the notebook runs top to bottom" in reason and "KeyError" in reason


def test_a_cell_that_does_not_finish_in_time_is_named(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    write_readings(tmp_path)
    notebook = write_notebook(
        [
            ("import time\n\ntime.sleep(60)", 1),
            (LOAD, 2),
            ('model = LinearRegression().fit(readings[["load"]], readings["energy"])', 3),
        ]
    )

    [(cell, _, reason)] = reasons(notebook, tmp_path / "out", timeout=5.0)

    assert cell == 1 and "did not finish within 5 s" in reason


def test_a_transform_that_reads_the_label_is_refused(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    write_readings(tmp_path)
    notebook = write_notebook(
        [
            (LOAD, 1),
            "## Prepare",
            ('prepared = readings.assign(ratio=readings["energy"] / readings["hours"])', 2),
            "## Fit",
            (('model = LinearRegression().fit(prepared[["ratio"]], prepared["energy"])\n'
             'scores = model.predict(prepared[["ratio"]])'), 3),
        ]
    )  # fmt: skip

    [(cell, line, reason)] = reasons(notebook, tmp_path / "out")

    assert (cell, line) == (3, 1) and "reads the label column 'energy'" in reason


def test_a_scaler_fitted_outside_a_pipeline_is_learned_inside_the_model(
    write_notebook: Callable[..., Path], tmp_path: Path
) -> None:
    write_readings(tmp_path)
    notebook = write_notebook(
        [
            (LOAD + "\nfrom sklearn.preprocessing import StandardScaler", 1),
            "## Scale",
            (('scaler = StandardScaler().fit(readings[["load"]])\n'
             'scaled = readings.assign(load=scaler.transform(readings[["load"]])[:, 0])'), 2),
            "## Fit",
            (('model = LinearRegression().fit(scaled[["load"]], scaled["energy"])\n'
             'scores = model.predict(scaled[["load"]])'), 3),
        ]
    )  # fmt: skip

    conversion = convert_notebook(notebook, tmp_path / "out")

    assert conversion.verification is not None and conversion.verification.passed
    steps = (tmp_path / "out" / "steps.py").read_text()
    assert 'scaler = learned.fit("cell 3 line 1", StandardScaler(), readings[["load"]])' in steps
    assert "transforms=[]" in (tmp_path / "out" / "pipeline.py").read_text()
    report = (tmp_path / "out" / "CONVERSION.md").read_text()
    assert 'cell 3 line 1: `StandardScaler().fit(readings[["load"]])` learned' in report


def test_the_output_directory_must_be_new_or_empty(
    shipml: Callable[..., Result], tmp_path: Path
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    notebook = FIXTURES / "clean_classification" / "churn.ipynb"

    result = shipml("convert", str(notebook), "--out", str(busy))

    assert result.exit_code == 2
    assert "already exists and is not empty" in result.output
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]


def test_label_presence_filters_come_out_of_transforms_and_other_label_reads_do_not() -> None:
    snippet = Snippet(
        cell=6,
        line=3,
        text='kept = raw[(raw["area"] > 10) & raw["price"].notna()]\n'
        'known = raw.dropna(subset=["price"])\n'
        'ratio = raw["price"] / raw["area"]\n',
    )

    edited, changes, blockers = without_label_filters(snippet, "price")

    assert edited.text.splitlines()[:2] == ['kept = raw[raw["area"] > 10]', "known = raw"]
    assert [c.line for c in changes] == [3, 4]
    assert [(b.cell, b.line) for b in blockers] == [(6, 5)]


def test_row_renumbering_comes_out_of_transforms_unless_it_adds_a_column() -> None:
    snippet = Snippet(
        cell=6,
        line=1,
        text="clean = raw.dropna().reset_index(drop=True)\nnumbered = raw.reset_index()\n",
    )

    edited, changes, blockers = keeping_row_index(snippet)

    assert edited.text.splitlines()[0] == "clean = raw.dropna()"
    assert [c.line for c in changes] == [1]
    assert [(b.cell, b.line) for b in blockers] == [(6, 2)]
