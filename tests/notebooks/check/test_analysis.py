"""The data flow of a cell: what it reads, binds and changes, in the order Python does it."""

from __future__ import annotations

from pathlib import Path

from shipml.notebooks.check import Cell, Notebook, analyse_cell, analyse_notebook, trace_uses


def flow(source: str, number: int = 1):
    return analyse_cell(Cell(number=number, kind="code", source=source))


def notebook(*sources: str) -> Notebook:
    cells = tuple(Cell(n, "code", source) for n, source in enumerate(sources, 1))
    return Notebook(path=Path("example.ipynb"), cells=cells)


def test_the_right_side_is_read_before_the_target_is_bound() -> None:
    cell = flow("df = df.dropna()\nsummary = df.describe()")
    assert cell.reads == {"df"}
    assert cell.writes == {"df", "summary"}


def test_a_name_bound_before_it_is_read_is_not_needed_from_outside() -> None:
    cell = flow("x = 1\ny = x + 1")
    assert cell.reads == set()


def test_every_binding_form_is_a_definition() -> None:
    cell = flow(
        "import numpy as np\n"
        "from sklearn import metrics as m\n"
        "for i, (a, b) in enumerate(pairs):\n"
        "    pass\n"
        "with open(path) as handle:\n"
        "    pass\n"
        "try:\n"
        "    pass\n"
        "except ValueError as error:\n"
        "    pass\n"
        "if (n := len(pairs)) > 2:\n"
        "    pass\n"
        "def f():\n"
        "    pass\n"
        "class C:\n"
        "    pass\n"
    )
    assert cell.writes == {"np", "m", "i", "a", "b", "handle", "error", "n", "f", "C"}
    assert cell.reads == {"enumerate", "pairs", "open", "path", "ValueError", "len"}
    assert cell.imports == {"np": "numpy", "m": "sklearn.metrics"}
    assert cell.functions_defined == {"f"}
    assert cell.classes_defined == {"C"}


def test_comprehension_and_lambda_variables_stay_local() -> None:
    cell = flow("squares = [v * v for v in values if v > limit]\nkey = lambda r: r[column]")
    assert cell.reads == {"values", "limit", "column"}
    assert cell.writes == {"squares", "key"}


def test_a_walrus_in_a_comprehension_binds_in_the_cell() -> None:
    cell = flow("big = [y for x in data if (y := x * 2) > 3]")
    assert cell.writes == {"big", "y"}


def test_subscript_attribute_and_in_place_changes_are_mutations() -> None:
    cell = flow(
        'df["ratio"] = df["a"] / df["b"]\n'
        "model.n_jobs = 2\n"
        "results.append(score)\n"
        "frame.fillna(0, inplace=True)\n"
        'del cache["old"]\n'
    )
    assert cell.mutations == {"df", "model", "results", "frame", "cache"}
    assert cell.writes == set()
    assert cell.reads == {"df", "model", "results", "score", "frame", "cache"}


def test_augmented_assignment_reads_then_rebinds() -> None:
    cell = flow("total += 1")
    assert cell.reads == {"total"}
    assert cell.writes == {"total"}


def test_del_needs_the_name_and_removes_it() -> None:
    cell = flow("del tmp")
    assert cell.reads == {"tmp"}
    assert cell.deletes == {"tmp"}


def test_a_function_reads_globals_only_when_called() -> None:
    cell = flow(
        "def score(frame, weights=DEFAULTS):\n"
        "    local = frame * weights\n"
        "    return local.sum() / total + len(frame)\n"
    )
    assert cell.reads == {"DEFAULTS"}  # the default is evaluated at definition time
    definition = cell.definitions["score"]
    assert dict(definition.reads) == {"total": 3, "len": 3}


def test_a_function_that_changes_globals() -> None:
    cell = flow(
        "def record(value):\n"
        "    global count\n"
        "    count += 1\n"
        "    history.append(value)\n"
        "    table['last'] = value\n"
    )
    definition = cell.definitions["record"]
    assert dict(definition.rebinds) == {"count": 3}
    assert dict(definition.mutates) == {"history": 4, "table": 5}


def test_a_class_body_reads_at_definition_and_its_methods_when_used() -> None:
    cell = flow(
        "class Scaler(Base):\n"
        "    factor = DEFAULT_FACTOR\n"
        "    def apply(self, frame):\n"
        "        return frame * self.factor - offset\n"
    )
    assert cell.reads == {"Base", "DEFAULT_FACTOR"}
    definition = cell.definitions["Scaler"]
    assert dict(definition.reads) == {"offset": 4}


def test_a_syntax_error_keeps_what_came_before_it() -> None:
    cell = flow("x = 1\ny = (\nz = 3")
    assert cell.syntax_error is not None
    assert cell.syntax_error.line == 2
    assert cell.writes == {"x"}


def test_ipython_lines_are_analysed_as_the_python_they_stand_for() -> None:
    cell = flow("%time model = fit(data)\nfiles = !ls")
    assert cell.writes == {"model", "files"}
    assert cell.reads == {"fit", "data"}


def test_trace_matches_each_read_with_the_cell_that_bound_it() -> None:
    flows = analyse_notebook(notebook("df = load()", "df.head()", "def f():\n    return df", "f()"))
    uses = [(u.name, u.cell, u.source, u.via) for u in trace_uses(flows)]
    assert uses == [
        ("load", 1, None, None),
        ("df", 2, 1, None),
        ("f", 4, 3, None),
        ("df", 4, 1, "f"),  # read by f's body when cell 4 calls it
    ]


def test_trace_follows_calls_between_functions() -> None:
    flows = analyse_notebook(
        notebook("def inner():\n    return data", "def outer():\n    return inner()", "outer()")
    )
    uses = {(u.name, u.cell, u.source, u.via) for u in trace_uses(flows)}
    assert ("data", 3, None, "inner") in uses
    assert ("inner", 3, 1, "outer") in uses


def test_trace_skips_builtins_and_notes_deletions() -> None:
    flows = analyse_notebook(notebook("x = [1]", "print(len(x))\ndel x", "x"))
    uses = [(u.name, u.cell, u.source, u.deleted_in) for u in trace_uses(flows)]
    assert uses == [("x", 2, 1, None), ("x", 3, None, 2)]  # once per cell and binding
