"""The static part of a conversion: sections, statements and roles, found before anything runs."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shipml.notebooks.check.analysis import CellFlow, analyse_notebook
from shipml.notebooks.check.cells import Notebook
from shipml.notebooks.check.names import NameIndex
from shipml.notebooks.check.sections import CellGroup, group_cells
from shipml.notebooks.convert.blockers import static_blockers
from shipml.notebooks.convert.capture import CaptureRequest
from shipml.notebooks.convert.roles import (
    DataRead,
    DataSplit,
    ModelFit,
    Scoring,
    find_data_read,
    find_fit,
    find_scoring,
    find_split,
    reads_of_data,
)
from shipml.notebooks.convert.statements import Statement, statements_of
from shipml.notebooks.errors import Blocker, NotConvertible


@dataclass
class Sketch:
    """A notebook's sections and statements, and the roles recognised in its code."""

    notebook: Notebook
    flows: tuple[CellFlow, ...]
    groups: list[CellGroup]
    statements: dict[int, list[Statement]]
    index: NameIndex
    imports: dict[str, str]
    data_read: DataRead
    fit: ModelFit
    split: DataSplit | None
    scoring: Scoring | None

    def group_position(self, cell: int) -> int:
        """The position (0-based) of the section holding `cell`."""
        return next(i for i, group in enumerate(self.groups) if cell in group.cells)

    def statements_in(self, position: int) -> list[Statement]:
        """The statements of a section, top to bottom."""
        return [s for cell in self.groups[position].cells for s in self.statements.get(cell, [])]

    def capture_request(self) -> CaptureRequest:
        """What the notebook's run must bring back for the conversion."""
        snapshots: dict[int, list[str]] = {}
        for group in self.groups:
            names = sorted(
                {n for cell in group.cells for s in self.statements[cell] for n in s.binds}
            )
            snapshots[group.cells[-1]] = names
        read_cell = self.data_read.statement.cell
        snapshots[read_cell] = sorted({*snapshots.get(read_cell, []), self.data_read.name})
        return CaptureRequest(
            cells=[(flow.cell, flow.code) for flow in self.flows],
            snapshots=snapshots,
            model=self.fit.model,
            scoring_cells=[self.scoring.cell] if self.scoring else [],
            refit=self.refit_check(),
        )

    def refit_check(self) -> dict[str, Any] | None:
        """How to check that refitting the model on the same rows reproduces it (needs the
        fit's X and y as plain names); None when it cannot be checked."""
        x, y = self.fit.x, self.fit.y
        if not (isinstance(x, ast.Name) and isinstance(y, ast.Name)):
            return None
        x_eval = x.id
        if self.split is not None and x.id in self.split.parts:
            position = self.split.parts[x.id][0]
            x_eval = next(
                (n for n, part in self.split.parts.items() if part == (position, "test")), x.id
            )
        return {
            "after_cell": self.fit.statement.cell,
            "model": self.fit.model,
            "x": x.id,
            "y": y.id,
            "x_eval": x_eval,
            "method": self.scoring.method if self.scoring else "predict",
        }


def sketch_notebook(notebook: Notebook) -> Sketch:
    """Sections, statements and roles of `notebook`; NotConvertible with the reasons otherwise."""
    flows = analyse_notebook(notebook)
    groups = group_cells(notebook)
    blockers = static_blockers(notebook, flows, groups)
    if blockers:
        raise NotConvertible(blockers)
    index = NameIndex.of(flows)
    statements = {flow.cell: statements_of(flow, index) for flow in flows}
    ordered = [s for flow in flows for s in statements[flow.cell]]
    imports = {name: module for flow in flows for name, module in flow.imports.items()}
    data_read = find_data_read(ordered, imports)
    fit = find_fit(ordered)
    first_cell = flows[0].cell if flows else 1
    if data_read is None:
        raise NotConvertible(
            [
                Blocker(
                    first_cell,
                    None,
                    "no cell reads the training data from a file with pandas "
                    '(`df = pd.read_csv("data.csv")`, a path relative to the notebook): '
                    "shipml trains from a data file",
                )
            ]
        )
    if fit is None:
        raise NotConvertible(
            [
                Blocker(
                    first_cell, None, "no cell fits a model (`model.fit(X, y)`): nothing to train"
                )
            ]
        )
    _check_data_reads(ordered, imports, data_read, fit)
    split = find_split(ordered, fit)
    trees = [(flow.cell, flow.code, flow.tree) for flow in flows if flow.tree is not None]
    scoring = find_scoring(trees, fit.model, fit.statement.cell)
    return Sketch(
        notebook=notebook,
        flows=flows,
        groups=groups,
        statements=statements,
        index=index,
        imports=imports,
        data_read=data_read,
        fit=fit,
        split=split,
        scoring=scoring,
    )


def _check_data_reads(
    ordered: Sequence[Statement], imports: dict[str, str], data_read: DataRead, fit: ModelFit
) -> None:
    """Only one data file may feed the pipeline: the one read first, before the fit."""
    problems = []
    read_cell, fit_cell = data_read.statement.cell, fit.statement.cell
    if fit_cell < read_cell:
        problems.append(
            Blocker(fit_cell, fit.statement.line, "the model is fitted before the data is read")
        )
    for statement in reads_of_data(ordered, imports):
        if statement is data_read.statement or statement.cell > fit_cell:
            continue
        problems.append(
            Blocker(
                statement.cell,
                statement.line,
                f"reads a second data file before the fit (the first is {data_read.path!r}, "
                f"cell {read_cell}): a shipml pipeline trains on one table; join the files "
                "into one before converting",
            )
        )
    if problems:
        raise NotConvertible(problems)
