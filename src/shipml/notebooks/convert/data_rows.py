"""The training data file: the labelled rows, the label as the model learns it, and the
columns that name rows (which the predictions carry)."""

from __future__ import annotations

import ast

import pandas as pd

from shipml.notebooks.check.roles import dict_frame_columns
from shipml.notebooks.convert.adaptations import Change
from shipml.notebooks.convert.designer import Designer


def training_rows(d: Designer, raw: pd.DataFrame, label: str) -> pd.DataFrame:
    """The labelled rows, with the label as the model learns it (a transformation the notebook
    applies to the label column in place is applied once, here)."""
    training = raw.copy()
    transforms = [s for s in d.plan.prep if d.plan.label_uses.get(id(s)) == "transforms"]
    if transforms:
        last = transforms[-1]
        frame_name = next(iter(sorted(last.binds | last.changes)))
        frame = d.value("after", last, frame_name)
        if not isinstance(frame, pd.DataFrame) or label not in frame.columns:
            d.block(
                last.cell,
                last.line,
                f"cannot read the label {label!r} after this statement",
            )
            d.stop_if_blocked()
        pairs = pd.DataFrame({"raw": raw[label].loc[frame.index], "learned": frame[label]})
        mapping = pairs.drop_duplicates().set_index("raw")["learned"]
        if mapping.index.has_duplicates:
            d.block(
                last.cell,
                last.line,
                f"transforms the label {label!r} in a way that is not value by value: "
                "make the label a column of the data as the model should learn it",
            )
            d.stop_if_blocked()
        training[label] = raw[label].map(mapping)
        for statement in transforms:
            d.changes.append(
                Change(
                    statement.cell,
                    statement.line,
                    f"the label `{label}` transformed in place: applied once to "
                    "data/train.csv, which holds the label as the model learns it",
                    "label_transformed",
                )
            )
    return training[training[label].notna()]


def identifier_columns(d: Designer, raw: pd.DataFrame, label: str) -> list[str]:
    """Columns of the data that name rows and that the notebook puts beside its predictions."""
    scoring = d.plan.scoring
    scope: ast.AST = scoring.function or d.plan.scoring.statement.node
    literal = dict_frame_columns(scope)
    if not literal:
        later = [s for s in d.plan.statements if s.cell == scoring.cell]
        literal = {k: v for s in later for k, v in dict_frame_columns(s.node).items()}
    ids = []
    for column, expression in literal.items():
        if column == label or column not in raw.columns:
            continue
        if (
            isinstance(expression, ast.Subscript)
            and isinstance(expression.slice, ast.Constant)
            and expression.slice.value == column
            and raw[column].is_unique
        ):
            ids.append(column)
    return ids
