"""Each fixture notebook yields exactly its known traps; the two clean ones yield none."""

from __future__ import annotations

import pytest

from shipml.notebooks import read_notebook

from ..helpers import FIXTURES, findings_of, summary

CLEAN = [
    FIXTURES / "clean_classification" / "churn.ipynb",
    FIXTURES / "clean_regression" / "house_prices.ipynb",
]


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.parent.name)
def test_a_clean_notebook_has_no_findings(path) -> None:
    assert findings_of(path) == []


@pytest.mark.parametrize("path", CLEAN, ids=lambda p: p.parent.name)
def test_the_data_of_a_clean_notebook_sits_next_to_it_and_is_small(path) -> None:
    data = list(path.parent.glob("*.csv"))
    assert len(data) == 1
    assert data[0].stat().st_size < 100_000
    sources = "".join(cell.source for cell in read_notebook(path).code_cells)
    assert f'pd.read_csv("{data[0].name}")' in sources


def test_messy_churn_classification() -> None:
    findings = findings_of(FIXTURES / "churn_messy.ipynb")
    assert summary(findings) == [
        (2, 1, "shell_command", ["!pip"]),
        (3, 1, "magic", ["%matplotlib"]),
        (3, 5, "star_import", ["accuracy_score", "f1_score"]),
        (5, 1, "absolute_path", ["/home/ana/projects/churn/data/customers.csv"]),
        (7, None, "execution_gap", []),
        (7, 1, "redefined_after_use", ["df"]),
        (10, None, "execution_gap", []),
        (11, 1, "magic", ["%%time"]),
        (12, None, "out_of_order", []),
        (13, None, "not_executed", []),
        (14, 1, "absolute_path", ["C:\\Users\\ana\\Desktop\\churn_scored.csv"]),
    ]
    at = {(f.cell, f.kind.value): f for f in findings}
    assert "[5] to [6]" in at[(7, "execution_gap")].message
    assert "[9], just before this cell's [10]" in at[(10, "execution_gap")].message
    assert "after cell 6 above read it" in at[(7, "redefined_after_use")].message
    assert "[12] of cell 11" in at[(12, "out_of_order")].message
    assert at[(5, "absolute_path")].cell_name.startswith('df = pd.read_csv("/home/ana/')
    assert at[(7, "redefined_after_use")].section == "Load"
    assert at[(11, "magic")].section == "Model"


def test_messy_house_prices_regression() -> None:
    findings = findings_of(FIXTURES / "house_prices_messy.ipynb")
    assert summary(findings) == [
        (3, 1, "absolute_path", ["~/data/houses.csv"]),
        (4, 2, "function_mutates_global", ["houses"]),
        (6, 3, "function_reads_global", ["features", "houses"]),
        (8, 1, "redefined_after_use", ["features"]),
        (9, 1, "magic", ["%time"]),
        (9, 2, "undefined_name", ["r2"]),
        (10, 1, "redefined_after_use", ["houses"]),
        (10, 2, "ipython_name", ["display"]),
        (10, 3, "redefined_after_use", ["predicted"]),
        (11, 1, "used_after_delete", ["predicted"]),
        (12, 2, "syntax_error", []),
        (13, 1, "used_before_definition", ["summarize"]),
        (14, None, "out_of_order", []),
        (14, None, "execution_gap", []),
        (15, 1, "shell_command", ["!ls"]),
    ]
    messages = {(f.cell, f.line): f.message for f in findings}
    assert "cells 3, 5" in messages[(6, 3)]
    assert "cell 12 could not be parsed" in messages[(9, 2)]
    assert "after cells 4, 7, 8, 9 above read it" in messages[(10, 1)]
    assert "fails with NameError" in messages[(10, 3)]
    assert "after cell 10 deleted it" in messages[(11, 1)]
    assert "first bound in cell 14 below" in messages[(13, 1)]
    assert "was never closed" in messages[(12, 2)]


def test_the_notebook_with_a_deleted_cell() -> None:
    findings = findings_of(FIXTURES / "deleted_cell_fails.ipynb")
    assert summary(findings) == [
        (4, None, "execution_gap", []),
        (4, 3, "undefined_name", ["cutoff"]),
    ]


def test_a_notebook_that_only_sleeps_is_statically_clean() -> None:
    assert findings_of(FIXTURES / "slow_cell.ipynb") == []
