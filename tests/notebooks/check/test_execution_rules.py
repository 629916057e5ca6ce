"""What the saved execution counts tell, phrased no stronger than they allow."""

from __future__ import annotations

from ..helpers import findings_of, summary


def test_a_notebook_run_top_to_bottom_is_clean(write_notebook) -> None:
    path = write_notebook(["# Title", ("a = 1", 1), ("b = a + 1", 2), ("print(b)", 3)])
    assert findings_of(path) == []


def test_a_notebook_with_cleared_outputs_says_nothing_about_order(write_notebook) -> None:
    path = write_notebook([("a = 1", None), ("b = a + 1", None)])
    assert findings_of(path) == []


def test_a_cell_run_before_the_cell_above_it(write_notebook) -> None:
    path = write_notebook([("a = 1", 1), ("b = 2", 3), ("c = 3", 2)])
    findings = findings_of(path)
    assert summary(findings) == [(3, None, "out_of_order", [])]
    assert "[2] is not above the [3] of cell 2" in findings[0].message


def test_each_cell_below_a_later_run_is_out_of_order(write_notebook) -> None:
    path = write_notebook([("a = 1", 3), ("b = 2", 1), ("c = 3", 2), ("d = 4", 4)])
    assert summary(findings_of(path)) == [
        (2, None, "out_of_order", []),
        (3, None, "out_of_order", []),
    ]


def test_a_restarted_kernel_shows_as_out_of_order(write_notebook) -> None:
    path = write_notebook([("a = 1", 1), ("b = 2", 2), ("c = 3", 1), ("d = 4", 2)])
    assert [(f.cell, f.kind.value) for f in findings_of(path)] == [
        (3, "out_of_order"),
        (4, "out_of_order"),
    ]


def test_a_cell_not_run_while_others_were(write_notebook) -> None:
    path = write_notebook([("a = 1", 1), ("b = 2", None), ("   \n", None), ("c = 3", 2)])
    findings = findings_of(path)
    assert summary(findings) == [(2, None, "not_executed", [])]  # the blank cell is no trap
    assert "or its output was cleared" in findings[0].message


def test_gaps_in_the_counts_are_executions_no_cell_records(write_notebook) -> None:
    path = write_notebook([("a = 1", 4), ("b = 2", 5), ("c = 3", 7)])
    findings = findings_of(path)
    assert summary(findings) == [(1, None, "execution_gap", []), (3, None, "execution_gap", [])]
    assert findings[0].message.startswith("no saved cell has execution count [1] to [3]")
    assert "3 executions left no trace" in findings[0].message
    assert "[6], just before this cell's [7]: 1 execution left no trace" in findings[1].message
    assert "a cell ran more than once, or a cell was deleted" in findings[1].message
