"""What the project leaves out of the notebook, each statement with why: nothing is lost silently.

Looking at the data, plots, evaluation, the other models tried, files written (submissions,
model pickles), shell commands and magics, the preparation of a second, unlabelled file:
listed in CONVERSION.md by cell and line.
"""

from __future__ import annotations

import ast

from shipml.notebooks.check.ml_rules import FILE_WRITERS
from shipml.notebooks.check.plan import Plan
from shipml.notebooks.check.roles import pandas_reader
from shipml.notebooks.check.statements import Statement, calls_in, method_name
from shipml.notebooks.convert.modules import ModuleParts
from shipml.notebooks.convert.project_spec import Dropped

PLOTTERS = frozenset(
    {
        "plot",
        "hist",
        "boxplot",
        "scatter",
        "show",
        "bar",
        "pie",
        "heatmap",
        "pairplot",
        "countplot",
        "imshow",
        "title",
        "xlabel",
        "ylabel",
        "figure",
        "subplots",
        "legend",
    }
)


def dropped_statements(plan: Plan, parts: ModuleParts) -> list[Dropped]:
    """Every statement and IPython line no step keeps, with the reason, top to bottom."""
    kept = {id(s) for s in [*plan.source.ingest, *plan.prep, *plan.model_code]}
    other_reads = _reads_of_other_data(plan)
    dropped = []
    for flow in plan.flows:
        for line in flow.ipython:
            what = "a shell command" if line.kind == "shell" else "IPython syntax"
            kind = "shell_command" if line.kind == "shell" else "magic"
            reason = f"{what}: not part of a pipeline" + (
                " (dependencies go in the project's requirements)"
                if line.command in ("!pip", "%pip", "!conda", "%conda")
                else ""
            )
            dropped.append(Dropped(flow.cell, line.line, line.text, reason, kind))
    for statement in plan.statements:
        if id(statement) in kept or statement.kind == "import":
            continue
        if statement.kind in ("definition", "constant"):
            if statement.binds & parts.used:
                continue
            reason = (
                "a function or class no step uses"
                if statement.kind == "definition"
                else ("a constant no step uses")
            )
        elif _is_pass(statement):
            continue
        else:
            reason = _reason(plan, statement, other_reads)
        kind = (
            "file_write"
            if reason.startswith("writes a file")
            else "other_models"
            if reason.startswith("fits `")
            else ""
        )
        dropped.append(
            Dropped(statement.cell, statement.line, statement.first_line_text, reason, kind)
        )
    return sorted(dropped, key=lambda d: (d.cell, d.line))


def _reason(plan: Plan, statement: Statement, other_reads: set[str]) -> str:
    calls = list(calls_in(statement.node))
    if any(method_name(c) in FILE_WRITERS or _opens_for_writing(c) for c in calls):
        return (
            "writes a file (a submission, a model pickle): shipml writes each batch window's "
            "output and registers the model itself"
        )
    fitted = [f.model for f in plan.fits if f.statement is statement and f.model != plan.model]
    if fitted:
        return (
            f"fits `{fitted[0]}`, another model the notebook tries; `{plan.model}` makes its last "
            "predictions"
        )
    if any(pandas_reader(c, plan.imports) for c in calls) or statement.reads & other_reads:
        return (
            "reads or prepares another data file (rows to score, without the label): a batch "
            "window brings the rows to score; the pipeline prepares them as it prepares training "
            "rows"
        )
    if any(method_name(c) in PLOTTERS for c in calls):
        return "draws a plot"
    if (statement.cell, statement.line) > (plan.fit.statement.cell, plan.fit.statement.line):
        return (
            "after the fit: evaluation and scoring (the predict step replaces the scoring; "
            "shipml evaluates on its own holdout)"
        )
    return "not needed by the model (looks at the data, or makes what the model does not use)"


def _reads_of_other_data(plan: Plan) -> set[str]:
    """Names holding another data file's rows, and what is computed from them."""
    names: set[str] = set()
    source = plan.source.statement
    for statement in plan.statements:
        if statement is source:
            continue
        if any(pandas_reader(c, plan.imports) for c in calls_in(statement.node)):
            names |= statement.binds
        elif statement.reads & names:
            names |= statement.binds | statement.changes
    return names - set(plan.source.names)


def _opens_for_writing(call: ast.Call) -> bool:
    if not (isinstance(call.func, ast.Name) and call.func.id == "open") or len(call.args) < 2:
        return False
    mode = call.args[1]
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "w" in mode.value


def _is_pass(statement: Statement) -> bool:
    return isinstance(statement.node, ast.Pass)
