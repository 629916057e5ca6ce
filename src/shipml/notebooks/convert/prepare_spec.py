"""`prepare(rows, learned)`: the preparation that runs inside the model, as code.

From the step's rows to the fit's input and label: the notebook's names restored from the rows,
its statements with their learning places going through `learned`, the statements that need
the label run while training only, and the train/test split replaced by its training parts.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import pandas as pd

from shipml.notebooks.check.labels import drop_calls, ignoring_missing
from shipml.notebooks.check.statements import Statement
from shipml.notebooks.convert.adaptations import Change, keeping_row_index
from shipml.notebooks.convert.designer import INDEX_NAME, Designer, source_text
from shipml.notebooks.convert.instrument import learning_text
from shipml.notebooks.convert.project_spec import PrepareSpec, TransformSpec
from shipml.notebooks.convert.rewrite import Edit, Snippet, replace


def prepare_spec(
    d: Designer,
    label: str,
    transforms: list[TransformSpec],
    ids: list[str],
    renames: dict[str, str],
) -> PrepareSpec:
    """The preparation inside the model, from the rows `train`/`predict` get to the fit's input."""
    plan = d.plan
    lines: list[str] = []
    guarded: list[str] = []

    def emit(text: str, *, fitting_only: bool = False) -> None:
        if fitting_only:
            guarded.append(text)
            return
        if guarded:
            lines.append("if learned.fitting:\n" + "\n".join(_indent(g) for g in guarded))
            guarded.clear()
        lines.append(text)

    if renames:
        emit("rows = rows.rename(columns=NOTEBOOK_NAMES)")
    for text, fitting_only in _restored(d, label, transforms, ids):
        emit(text, fitting_only=fitting_only)
    index = "rows.index"
    in_model = plan.in_model
    for statement in in_model:
        use = plan.label_uses.get(id(statement), "none")
        if plan.split is not None and statement is plan.split.statement:
            split_lines, split_index = _split_replacement(d)
            for text, fitting_only in split_lines:
                emit(text, fitting_only=fitting_only)
            index = split_index or index
            continue
        if id(statement) in plan.label_only:
            emit(statement.source, fitting_only=True)
            continue
        if use == "transforms":
            continue
        text = learning_text(plan, statement)
        for site in plan.sites.get(id(statement), []):
            d.changes.append(
                Change(
                    statement.cell,
                    int(site.key.split("line ")[1].split()[0]),
                    f"`{_site_text(statement, site)}` learned from the training rows "
                    "and kept in the model (a batch to score gets the same value)",
                    "learned_from_data",
                )
            )
        if use == "drops":
            text = _ignoring_missing_label(statement, text, label)
            d.changes.append(
                Change(
                    statement.cell,
                    statement.line,
                    f'drops the label `{label}` with `errors="ignore"`: rows to score have none',
                    "label_dropped",
                )
            )
        snippet, changes, blockers = keeping_row_index(
            Snippet(statement.cell, statement.line, text)
        )
        d.changes += changes
        d.blockers += blockers
        if use == "filters":
            d.changes.append(
                Change(
                    statement.cell,
                    statement.line,
                    f"keeps training rows by the label `{label}`: runs while training only",
                    "label_filter",
                )
            )
        emit(snippet.text, fitting_only=use == "filters")
    emit("")
    lines = [line for line in lines if line]
    if index == "rows.index" and d.captured.fit_x_frame:
        index = f"{source_text(plan.fit.statement, plan.fit.x)}.index"
    cells = tuple(sorted({s.cell for s in in_model}))
    return PrepareSpec(
        cells=cells,
        parameter="rows",
        lines=lines,
        features=source_text(plan.fit.statement, plan.fit.x),
        label=source_text(plan.fit.statement, plan.fit.y),
        index=index,
    )


def _restored(
    d: Designer, label: str, transforms: list[TransformSpec], ids: list[str]
) -> list[tuple[str, bool]]:
    """The notebook's names the preparation starts from, taken from the step's rows."""
    plan = d.plan
    ingest = d.captured
    if ingest.frame_name is None and ingest.x_name and ingest.y_name:
        x_name, y_name = ingest.x_name, ingest.y_name
        x = 'rows.drop(columns=[LABEL], errors="ignore")' + (
            ".to_numpy()" if ingest.x_array else ""
        )
        y = "rows[LABEL]" + (".to_numpy()" if ingest.y_array else "")
        return [(f"{x_name} = {x}", False), (f"{y_name} = {y}", True)]
    frame = transforms[-1].output if transforms else (ingest.frame_name or plan.source.names[-1])
    start = plan.in_model[0] if plan.in_model else plan.fit.statement
    value = d.value("before", start, frame)
    carried = list(transforms[-1].carried) if transforms else []
    with_label = isinstance(value, pd.DataFrame) and label in value.columns
    dropped = carried + ([] if with_label else ["LABEL"])
    if dropped:
        names = ", ".join("LABEL" if c == "LABEL" else json.dumps(c) for c in dropped)
        restored = [(f'{frame} = rows.drop(columns=[{names}], errors="ignore")', False)]
    else:
        restored = [(f"{frame} = rows.copy()", False)]
    for statement in plan.prep:
        if id(statement) in plan.label_only and plan.group_of(statement) in plan.transform_groups:
            target = _simple_label_read(statement, label)
            if target is None:
                d.block(
                    statement.cell,
                    statement.line,
                    "takes the label out in a section that reshapes rows: take it as "
                    f'`y = df["{label}"]` where the model is fitted',
                )
                continue
            restored.append((f"{target} = rows[LABEL]", True))
    return restored


def _split_replacement(d: Designer) -> tuple[list[tuple[str, bool]], str | None]:
    """The notebook's train/test split, replaced by its training parts: all the rows."""
    plan = d.plan
    split = plan.split
    assert split is not None
    label_names = {n for s in plan.prep if id(s) in plan.label_only for n in s.binds}
    label_names |= {d.captured.y_name} if d.captured.y_name else set()
    label_names |= {
        n
        for s in plan.prep
        if id(s) in plan.label_only and plan.group_of(s) in plan.transform_groups
        for n in s.binds
    }
    lines: list[tuple[str, bool]] = []
    index = None
    first = split.arrays[0]
    first_text = source_text(split.statement, first)
    first_value = (
        d.value("before", split.statement, first.id) if isinstance(first, ast.Name) else None
    )
    if isinstance(first_value, pd.DataFrame | pd.Series):
        lines.append((f"{INDEX_NAME} = {first_text}.index", False))
        index = INDEX_NAME
    for name, (position, part) in split.parts.items():
        if part != "train":
            continue
        array = split.arrays[position]
        reads = {n.id for n in ast.walk(array) if isinstance(n, ast.Name)}
        lines.append(
            (
                f"{name} = {source_text(split.statement, array)}",
                bool(reads) and reads <= label_names,
            )
        )
    d.changes.append(
        Change(
            split.statement.cell,
            split.statement.line,
            "train/test split taken out: `train` fits on all the rows it gets; "
            "shipml holds out [training] holdout_fraction of the data itself and "
            "evaluates on it",
            "split_replaced",
        )
    )
    return lines, index


def _site_text(statement: Statement, site: Any) -> str:
    text = statement.source
    first = text.splitlines()[0] if text else ""
    return ast.get_source_segment(text, site.node) or first


def _ignoring_missing_label(statement: Statement, text: str, label: str) -> str:
    tree = ast.parse(text)
    edits = []
    for call in drop_calls(tree.body[0], label):
        if ignoring_missing(call):
            continue
        inner = ast.get_source_segment(text, call) or ""
        edits.append(
            Edit(
                call,
                inner[:-1].rstrip()
                + (", " if call.args or call.keywords else "")
                + 'errors="ignore")',
            )
        )
    return replace(text, edits) if edits else text


def _simple_label_read(statement: Statement, label: str) -> str | None:
    node = statement.node
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Subscript)
        and isinstance(node.value.slice, ast.Constant)
        and node.value.slice.value == label
    ):
        return node.targets[0].id
    return None


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line.strip() else line for line in text.splitlines())
