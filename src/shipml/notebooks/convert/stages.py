"""Which statements each step keeps: followed backwards from the fitted model to the data read.

The fit's section keeps what the model depends on; it needs one table (and the label) from the
sections above. Each section above that binds the table needed becomes a transform keeping
what that table depends on, and needs one table in turn, until the data as read.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import pandas as pd

from shipml.notebooks.convert.notebook_run import NotebookRun
from shipml.notebooks.convert.project_spec import RawData
from shipml.notebooks.convert.slicing import Slice, slice_statements
from shipml.notebooks.convert.statements import Statement


@dataclass(frozen=True)
class TrainInputs:
    """What the fit's section keeps, the table it needs and the names holding the label."""

    kept: Slice
    frame: str
    label_names: frozenset[str]


@dataclass(frozen=True)
class Stage:
    """A transform in the making: its section, its table in and out, its statements."""

    position: int
    parameter: str
    output: str
    kept: list[Statement]


def raw_data(run: NotebookRun) -> RawData:
    """The data file and the frame read from it; it must be read in a cell of its own."""
    read = run.sketch.data_read
    cell, name = read.statement.cell, read.name
    later = [
        s
        for s in run.sketch.statements[cell]
        if s.line > read.statement.line and name in s.binds | s.changes
    ]
    if later:
        run.block(
            cell,
            later[0].line,
            f"changes `{name}` in the cell that reads it: keep the read in a cell of its own "
            "(the data as read becomes the training data file)",
        )
    frame = run.raw_frame()
    if not isinstance(frame, pd.DataFrame):
        run.block(cell, read.statement.line, f"`{name}` is not a pandas DataFrame once read")
    run.stop_if_blocked()
    source = (run.sketch.notebook.path.parent / read.path).resolve()
    copy = read.plain and source.suffix.lower() in (".csv", ".parquet", ".pq")
    return RawData(name, source, frame, copy)


def label_column(run: NotebookRun, raw: pd.DataFrame) -> str:
    """The column of the data the model learns: the name of the Series passed as `y`."""
    fit = run.sketch.fit
    label: object = None
    if isinstance(fit.y, ast.Name):
        value = run.value(fit.y.id, run.train_position)
        label = value.name if isinstance(value, pd.Series) else None
    elif isinstance(fit.y, ast.Subscript) and isinstance(fit.y.slice, ast.Constant):
        label = fit.y.slice.value
    if not isinstance(label, str) or label not in raw.columns:
        found = f" ({label!r} is not a column of the data)" if isinstance(label, str) else ""
        run.block(
            fit.statement.cell,
            fit.call.lineno,
            f"cannot tell which column of the data the model learns{found}: fit on a column "
            'of the data as read (`y = df["target"]`)',
        )
        run.stop_if_blocked()
    assert isinstance(label, str)
    return label


def train_inputs(run: NotebookRun, label: str) -> TrainInputs:
    """The fit's section reduced to the model, and the one table it needs."""
    position = run.train_position
    statements = run.sketch.statements_in(position)
    split = run.sketch.split
    if split is not None and split.statement not in statements:
        run.block(
            split.statement.cell,
            split.statement.line,
            "the train/test split is not in the same section as the fit: shipml holds out "
            "its own rows, so the split must sit with the fit to be taken out",
        )
    kept = slice_statements(statements, {run.sketch.fit.model})
    _refuse_test_rows(run, kept)
    frames, label_names = [], set()
    for name in sorted(kept.needs - run.module.names):
        value = run.value(name, position - 1)
        if isinstance(value, pd.Series) and value.name == label:
            label_names.add(name)
        elif isinstance(value, pd.DataFrame):
            frames.append(name)
        else:
            _refuse_input(run, name, position, "the fit")
    if len(frames) != 1:
        found = ", ".join(f"`{n}`" for n in frames) or "none"
        run.block(
            run.sketch.fit.statement.cell,
            run.sketch.fit.statement.line,
            f"the fit needs exactly one table from the sections above (found {found}): "
            "`train` takes one table with the label",
        )
    run.stop_if_blocked()
    return TrainInputs(kept, frames[0], frozenset(label_names))


def transform_stages(run: NotebookRun, inputs: TrainInputs) -> list[Stage]:
    """The transforms, top to bottom, found backwards from the table the fit needs."""
    needed, stages = inputs.frame, []
    for position in range(run.train_position - 1, run.read_position - 1, -1):
        statements = _after_the_read(run, position)
        if not any(needed in s.binds for s in statements):
            continue
        kept = slice_statements(statements, {needed})
        parameter = _single_table(run, position, kept, inputs.label_names)
        stages.append(Stage(position, parameter, needed, kept.kept))
        needed = parameter
    if needed != run.sketch.data_read.name:
        run.block(
            run.sketch.fit.statement.cell,
            None,
            f"the table the fit needs does not come from the data read in cell "
            f"{run.sketch.data_read.statement.cell} (it starts from `{needed}`)",
        )
    run.stop_if_blocked()
    return stages[::-1]


def _single_table(run: NotebookRun, position: int, kept: Slice, label_names: frozenset[str]) -> str:
    inputs = sorted(kept.needs - run.module.names)
    frames = [n for n in inputs if isinstance(run.input_value(n, position), pd.DataFrame)]
    for name in inputs:
        if name in label_names:
            run.block(
                run.first_cell(position),
                None,
                f"uses `{name}`, the label: transforms never see the label (rows to score have "
                "none)",
            )
        elif name not in frames:
            _refuse_input(run, name, position, f"section {run.section(position)!r}")
    if len(frames) != 1:
        run.block(
            run.first_cell(position),
            None,
            f"section {run.section(position)!r} needs {len(frames)} tables "
            f"({', '.join(frames) or 'none'}) from above: a transform takes exactly one",
        )
    run.stop_if_blocked()
    return frames[0]


def _after_the_read(run: NotebookRun, position: int) -> list[Statement]:
    statements = run.sketch.statements_in(position)
    if position != run.read_position:
        return statements
    read = run.sketch.data_read.statement
    return [s for s in statements if (s.cell, s.line) > (read.cell, read.line)]


def _refuse_test_rows(run: NotebookRun, kept: Slice) -> None:
    split = run.sketch.split
    if split is None:
        return
    test_parts = {n for n, (_, part) in split.parts.items() if part == "test"}
    for statement in kept.kept:
        used = statement.reads & test_parts
        if used and statement is not split.statement:
            run.block(
                statement.cell,
                statement.line,
                f"the model depends on the notebook's test rows ({', '.join(sorted(used))}): "
                "shipml holds out its own rows and cannot reproduce this",
            )


def _refuse_input(run: NotebookRun, name: str, position: int, who: str) -> None:
    bound = run.bound_last_in(name, position - 1)
    where = f", bound in cell {run.sketch.groups[bound].cells[-1]}" if bound is not None else ""
    run.block(
        run.first_cell(position),
        None,
        f"{who} needs `{name}` ({run.describe(name, position - 1)}{where}): only one table "
        "flows from step to step; state learned from the training data (a fitted scaler or "
        "encoder) belongs in the model, e.g. a scikit-learn Pipeline",
    )
