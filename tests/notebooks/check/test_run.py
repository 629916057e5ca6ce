"""`--run` executes the notebook top to bottom in a fresh kernel (nbclient + ipykernel)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shipml.notebooks import NotebookReport

from ..helpers import FIXTURES, notebook_json, summary


def test_a_clean_notebook_runs_top_to_bottom(shipml) -> None:
    path = FIXTURES / "clean_regression" / "house_prices.ipynb"
    result = shipml("check", str(path), "--run", "--json", "--timeout", "60")
    assert result.exit_code == 0, result.output
    report = NotebookReport.model_validate_json(result.stdout)
    assert report.findings == []
    assert report.run is not None
    assert (report.run.kernel, report.run.ok, report.run.cells_run) == ("python3", True, 7)


def test_the_first_failing_cell_is_reported(shipml) -> None:
    path = FIXTURES / "deleted_cell_fails.ipynb"
    result = shipml("check", str(path), "--run", "--json", "--timeout", "60")
    assert result.exit_code == 1, result.output
    report = NotebookReport.model_validate_json(result.stdout)
    assert summary(report.findings) == [
        (4, None, "execution_gap", []),
        (4, 3, "undefined_name", ["cutoff"]),
        (4, 3, "run_error", ["NameError"]),
    ]
    assert "NameError: name 'cutoff' is not defined" in report.findings[-1].message
    assert report.run is not None
    assert (report.run.ok, report.run.cells_run) == (False, 2)


def test_a_cell_over_the_timeout_is_reported(shipml) -> None:
    result = shipml("check", str(FIXTURES / "slow_cell.ipynb"), "--run", "--timeout", "1")
    assert result.exit_code == 1, result.output
    assert "run_timeout" in result.stdout
    assert "did not finish within 1 s" in " ".join(result.stdout.split())


def test_an_unknown_kernel_is_refused(shipml) -> None:
    path = FIXTURES / "slow_cell.ipynb"
    result = shipml("check", str(path), "--run", "--kernel", "no-such-kernel")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: no Jupyter kernel named 'no-such-kernel': install ipykernel "
        "(pip install 'shipml[notebook]') or pass --kernel with an installed kernel"
    )


def test_run_without_the_optional_packages_names_the_extra(shipml, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "nbclient", None)  # as if the extra were not installed
    result = shipml("check", str(FIXTURES / "slow_cell.ipynb"), "--run")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "error: --run needs the optional extra 'notebook' (nbclient missing): "
        "pip install 'shipml[notebook]'"
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_run_leaves_the_notebooks_folder_byte_for_byte_as_it_was(shipml, tmp_path) -> None:
    folder = tmp_path / "analysis"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n1,2\n3,4\n")
    (folder / "environment.txt").write_text("pinned versions\n")
    cells = [
        ('import pandas as pd\ndata = pd.read_csv("data.csv")', 1),
        ('data.assign(c=data["a"] * 2).to_csv("data.csv", index=False)', 2),
        ('with open("results.txt", "w") as f:\n    f.write("done")', 3),
        ("!echo overwritten > environment.txt", 4),
    ]
    notebook = folder / "analysis.ipynb"
    notebook.write_text(json.dumps(notebook_json(cells)))
    before = _snapshot(folder)

    result = shipml("check", str(notebook), "--run", "--json", "--timeout", "60")

    report = NotebookReport.model_validate_json(result.stdout)
    assert report.run is not None and report.run.ok, result.output
    assert report.run.cells_run == 4
    assert _snapshot(folder) == before


def test_a_failing_shell_command_fails_the_run(shipml, tmp_path) -> None:
    cells = [("x = 1", 1), ("!ls no-such-folder-here", 2), ("y = 2", 3)]
    notebook = tmp_path / "shell.ipynb"
    notebook.write_text(json.dumps(notebook_json(cells)))

    result = shipml("check", str(notebook), "--run", "--json", "--timeout", "60")

    assert result.exit_code == 1, result.output
    report = NotebookReport.model_validate_json(result.stdout)
    assert report.run is not None and not report.run.ok
    [failure] = [f for f in report.findings if f.kind.value == "run_error"]
    assert (failure.cell, failure.line) == (2, 1)
    assert "shell command failed (exit 2): ls no-such-folder-here" in failure.message
