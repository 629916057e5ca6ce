"""`shipml notebook check` on the command line: Rich or JSON, and its exit codes."""

from __future__ import annotations

import json

from shipml.notebooks import NotebookReport

from ..helpers import FIXTURES

CLEAN = FIXTURES / "clean_classification" / "churn.ipynb"
MESSY = FIXTURES / "house_prices_messy.ipynb"


def test_a_clean_notebook_exits_0(shipml) -> None:
    result = shipml("check", str(CLEAN))
    assert result.exit_code == 0, result.output
    assert "no traps found in 7 code cells" in " ".join(result.stdout.split())


def test_findings_are_printed_with_cell_numbers_and_names_and_exit_1(shipml) -> None:
    result = shipml("check", str(MESSY))
    assert result.exit_code == 1, result.output
    text = result.stdout
    assert "15 findings in 11 of 14 code cells" in " ".join(text.split())
    assert 'cell 3  houses = pd.read_csv("~/data/houses.csv")  (House prices, first try)' in text
    assert "cell 6  def train_model():" in text
    for kind in ("absolute_path", "function_reads_global", "used_after_delete", "out_of_order"):
        assert kind in text


def test_json_output_is_the_report(shipml) -> None:
    result = shipml("check", str(MESSY), "--json")
    assert result.exit_code == 1
    report = NotebookReport.model_validate_json(result.stdout)
    assert report.notebook == str(MESSY)
    assert report.code_cells == 14
    assert report.run is None
    first = json.loads(result.stdout)["findings"][0]
    assert first == {
        "kind": "absolute_path",
        "cell": 3,
        "cell_name": 'houses = pd.read_csv("~/data/houses.csv")',
        "section": "House prices, first try",
        "line": 1,
        "names": ["~/data/houses.csv"],
        "message": first["message"],
    }


def test_json_output_of_a_clean_notebook_has_no_findings(shipml) -> None:
    result = shipml("check", str(CLEAN), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["findings"] == []


def test_an_unreadable_notebook_exits_2_with_one_line(shipml, tmp_path) -> None:
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    result = shipml("check", str(broken), "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {broken} is not a notebook: invalid JSON")
