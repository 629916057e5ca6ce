"""Check a whole frame against a compiled contract: its columns, then whole rows if needed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

import numpy as np
import pandas as pd

from shipml.contracts._columns import check_column
from shipml.contracts._compile import Contract
from shipml.contracts._failures import Failures
from shipml.contracts._fields import FieldSpec
from shipml.contracts._pydantic import validate_items

ROW = "(row)"  # the column under which whole-row (model validator) failures are reported


@dataclass
class FrameCheck:
    """Failures per column, the invalid rows, and the contract's columns converted."""

    failures: dict[str, Failures]
    invalid: np.ndarray  # bool, one per row
    converted: dict[str, pd.Series]  # field name -> column as the field's type, every row
    null_counts: dict[str, int]  # per column of the frame


def check_frame(df: pd.DataFrame, contract: Contract) -> FrameCheck:
    """Check every row of `df` against `contract`, as `model_validate` would."""
    failures: dict[str, Failures] = {}
    null_counts: dict[str, int] = {}
    if _check_unique_names(df, failures):
        converted: dict[str, pd.Series] = {}
    elif contract.row_mode == "all":
        converted = _check_rows(df, contract, np.arange(len(df)), failures)
    else:
        _check_names(df, contract, failures)
        converted = _check_columns(df, contract, failures, null_counts)
    invalid = _invalid(len(df), failures)
    if contract.row_mode == "after" and not invalid.all():
        _check_rows(df, contract, np.flatnonzero(~invalid), failures)
        invalid = _invalid(len(df), failures)
    return FrameCheck(failures, invalid, converted, _null_counts(df, null_counts))


def _every_row(df: pd.DataFrame) -> np.ndarray:
    return np.arange(len(df))


def _null_counts(df: pd.DataFrame, known: dict[str, int]) -> dict[str, int]:
    """Missing values per column, counting those not already counted by the column checks."""
    counts: dict[str, int] = {}
    for position, name in enumerate(df.columns):
        key = str(name)
        if key in known:
            counts[key] = known[key]
        else:
            counts[key] = counts.get(key, 0) + int(df.iloc[:, position].isna().sum())
    return counts


def _check_unique_names(df: pd.DataFrame, failures: dict[str, Failures]) -> bool:
    """Fail every row when a column name appears twice (a row would be ambiguous)."""
    if df.columns.is_unique:  # cached by pandas: the common case costs nothing
        return False
    duplicated = df.columns[df.columns.duplicated()].unique()
    for name in duplicated:
        failures.setdefault(str(name), Failures()).add(
            "duplicate_column", f"column {name!r} appears more than once", _every_row(df)
        )
    return len(duplicated) > 0


def _check_names(df: pd.DataFrame, contract: Contract, failures: dict[str, Failures]) -> None:
    """Extra columns, as the model's `extra` setting treats them."""
    if contract.extra == "ignore":
        return
    fields = set(contract.columns)
    for name in df.columns:
        if not isinstance(name, str):
            rule, message = "invalid_key", "Keys should be strings"
        elif contract.extra == "forbid" and name not in fields:
            rule, message = "extra_forbidden", "Extra inputs are not permitted"
        else:
            continue
        failures.setdefault(str(name), Failures()).add(rule, message, _every_row(df))


def _check_columns(
    df: pd.DataFrame,
    contract: Contract,
    failures: dict[str, Failures],
    null_counts: dict[str, int],
) -> dict[str, pd.Series]:
    """Check each field's column; fill in defaults for absent optional ones."""
    converted: dict[str, pd.Series] = {}
    for spec in contract.fields:
        if spec.name not in df.columns:
            default = _absent_column(df, spec, failures)
            if default is not None:
                converted[spec.name] = default
            continue
        outcome = check_column(spec, df[spec.name])
        converted[spec.name] = outcome.values
        null_counts[spec.name] = outcome.nulls
        if outcome.failures.by_rule:
            failures[spec.name] = outcome.failures
    return converted


def _absent_column(
    df: pd.DataFrame, spec: FieldSpec, failures: dict[str, Failures]
) -> pd.Series | None:
    """The default-filled column of an absent field, or None (and a failure) if required."""
    column_failures = failures.setdefault(spec.name, Failures())
    if spec.required:
        column_failures.add("missing", "Field required", _every_row(df))
        return None
    value = spec.default_value()
    if spec.validate_default:
        verdicts = validate_items(spec.list_adapter, [value])
        for (rule, message), _ in verdicts.first_errors().items():
            column_failures.add(rule, message, _every_row(df))
        value = verdicts.values[0]
    if not column_failures.by_rule:
        del failures[spec.name]
    return _constant_column(value, df.index, spec.name)


def _constant_column(value: Any, index: pd.Index, name: str) -> pd.Series:
    if isinstance(value, Enum):
        value = value.value
    if pd.api.types.is_scalar(value) and value is not None:
        return pd.Series(value, index=index, name=name)
    filled = np.empty(len(index), dtype=object)
    filled[:] = [value] * len(index)
    return pd.Series(filled, index=index, name=name)


def _check_rows(
    df: pd.DataFrame, contract: Contract, positions: np.ndarray, failures: dict[str, Failures]
) -> dict[str, pd.Series]:
    """Pydantic on the whole records at `positions`; the fields' values of those that pass."""
    verdicts = validate_items(contract.rows_adapter, records(df.iloc[positions]))
    found: dict[tuple[str, str, str], list[int]] = {}
    for index, errors in verdicts.errors.items():
        seen: set[str] = set()
        for error in errors:
            column = str(error.loc[0]) if error.loc else ROW
            if column not in seen:  # one failure per row and column, like the column checks
                seen.add(column)
                found.setdefault((column, error.rule, error.message), []).append(index)
    for (column, rule, message), indices in found.items():
        failures.setdefault(column, Failures()).add(rule, message, positions[indices])
    return {
        spec.name: _field_values(verdicts.values, spec.name, positions, df.index)
        for spec in contract.fields
    }


def _field_values(
    models: np.ndarray, name: str, positions: np.ndarray, index: pd.Index
) -> pd.Series:
    """The values of field `name` of the validated `models` (None where a row failed)."""
    values = np.full(len(index), None, dtype=object)
    values[positions] = [_plain(getattr(m, name)) if m is not None else None for m in models]
    return pd.Series(values, index=index, name=name)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row as a dict, as `to_dict("records")` gives it, with missing values as None."""
    with_nulls = [name for name in df.columns if df[name].hasnans]
    rows = cast(list[dict[str, Any]], df.to_dict("records"))  # the contract's column names
    for row in rows:
        for name in with_nulls:
            if _is_missing(row[name]):
                row[name] = None
    return rows


def _is_missing(value: Any) -> bool:
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _invalid(rows: int, failures: dict[str, Failures]) -> np.ndarray:
    invalid = np.zeros(rows, dtype=bool)
    for column_failures in failures.values():
        column_failures.mark_invalid(invalid)
    return invalid
