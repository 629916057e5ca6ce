"""Facts about the frames a notebook produced: identifier columns, usable field names, names."""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

import pandas as pd

from shipml.contracts.infer import suggested_field_name


def camel_case(name: str) -> str:
    """`clean_customers` -> `CleanCustomers` (a class name for the rows of a frame)."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", name) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words) or "Rows"
    return f"Rows{text}" if text[0].isdigit() else text


def snake_case(name: str) -> str:
    """`Load data` -> `load_data` (a function name for a section)."""
    text = "_".join(w.lower() for w in re.split(r"[^0-9A-Za-z]+", name) if w) or "step"
    text = f"step_{text}" if text[0].isdigit() else text
    return f"{text}_" if keyword.iskeyword(text) else text


def identifier_columns(output: pd.DataFrame, raw: pd.DataFrame, label: str) -> list[str]:
    """Columns of `output` copied from `raw` that name rows: unique there, same values."""
    found = []
    for column in output.columns:
        if column == label or column not in raw.columns or not raw[column].is_unique:
            continue
        if output[column].isin(raw[column]).all():
            found.append(column)
    return found


def field_names(columns: Iterable[object]) -> tuple[dict[str, str], list[str]]:
    """Column -> field name for the columns that cannot be Pydantic field names as they are,
    and the problems (a name that is not text, two columns with the same field name)."""
    every = list(dict.fromkeys(columns))
    renames: dict[str, str] = {}
    problems: list[str] = []
    seen = {str(c) for c in every}
    for column in every:
        if not isinstance(column, str):
            problems.append(f"column {column!r} is not named by text: name it in the data")
            continue
        field = suggested_field_name(column)
        if field == column:
            continue
        if field in seen or field in renames.values():
            problems.append(
                f"column {column!r} would become field {field!r}, which another column has"
            )
            continue
        renames[column] = field
    return renames, problems
