"""Small frames already in their contract's types: one Pydantic call on the rows decides.

The columnar checks cost a few milliseconds whatever the frame's size (pandas' cost per
call), which is all of the time on the one to a few dozen rows of a prediction request.
For such a frame, when its columns are exactly the contract's fields in a dtype that
already fits each field (so validation would convert nothing), validating the rows' records
with Pydantic gives the same verdict (Pydantic's is the reference) in a fraction of that
time. Strings of a date or datetime field with a declared format (`DateFormat`) are the one
conversion allowed: Pydantic reads them by the format for the verdict, and the valid frame
takes their values from the columnar check of that column alone, so that both paths give
the same values. Anything else, and any frame with an invalid row, goes the columnar way,
which writes the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import ValidationError

from shipml.contracts._columns import check_column
from shipml.contracts._compile import Contract
from shipml.contracts._fields import FieldSpec

SMALL_FRAME_ROWS = 64

# The dtype each field kind passes through unconverted (see `_columns`' fast paths).
_UNCONVERTED = {"float": np.dtype(np.float64), "int": np.dtype(np.int64), "bool": np.dtype(bool)}


@dataclass(frozen=True)
class AllValid:
    """A small frame whose every row is valid: its null counts and its column layout."""

    null_counts: dict[str, int]
    layout: tuple[Any, ...]  # (column names, dtypes, index name)
    converted: dict[str, pd.Series]  # field name -> values, for the date strings read


def check_small_frame(df: pd.DataFrame, contract: Contract) -> AllValid | None:
    """`AllValid` when the small-frame path applies and every row is valid; else None."""
    names = contract.field_names
    if len(df) > SMALL_FRAME_ROWS or contract.row_mode == "all" or df.columns.tolist() != names:
        return None
    dtypes = frame_dtypes(df)
    dated = [f for f, d in zip(contract.fields, dtypes, strict=True) if _dated_text(f, d)]
    fields_and_dtypes = zip(contract.fields, dtypes, strict=True)
    if not all(f.column == f.name and _fits(f, d) for f, d in fields_and_dtypes):
        return None
    values = df.to_numpy(dtype=object)
    missing = pd.isna(values)  # NaN and pd.NA: a missing value is None in Pydantic's record
    if missing.any():
        values = np.where(missing, cast(Any, None), values)
    try:
        records = [dict(zip(names, row, strict=True)) for row in values.tolist()]
        contract.rows_adapter.validate_python(records)
    except ValidationError:
        return None
    converted = {}
    for spec in dated:
        outcome = check_column(spec, df[spec.name])
        if outcome.failures.by_rule:
            return None  # cannot happen (both read by the same format): the columns decide
        converted[spec.name] = outcome.values
    null_counts = dict(zip(names, missing.sum(axis=0).tolist(), strict=True))
    return AllValid(null_counts, (tuple(names), tuple(dtypes), df.index.name), converted)


def frame_dtypes(df: pd.DataFrame) -> list[Any]:
    """The columns' dtypes, read off the frame's blocks.

    `df.dtypes` builds a Series (and enters `warnings.catch_warnings`) on every call: most of
    the time of a one-row check, and slower still while another thread holds the GIL.
    """
    return list(df._mgr.get_dtypes())


def _fits(spec: FieldSpec, dtype: Any) -> bool:
    return _unconverted(spec.kind, dtype) or _dated_text(spec, dtype)


def _dated_text(spec: FieldSpec, dtype: Any) -> bool:
    """Strings of a date or datetime field with a declared (strftime) format."""
    declared = spec.date_format
    return declared is not None and not declared.epoch and isinstance(dtype, pd.StringDtype)


def _unconverted(kind: str | None, dtype: Any) -> bool:
    if kind == "str":
        return isinstance(dtype, pd.StringDtype)
    return kind in _UNCONVERTED and dtype == _UNCONVERTED[kind]
