"""`validate(df, M)`: check every row of a frame against a Pydantic model, column by column.

The verdict per row is Pydantic's in lax mode (its default) for the row's record: the dict
of the row's values, as `df.to_dict("records")` gives them, where a missing value (None,
NaN, NaT, pd.NA: whatever `pandas.isna` counts) is None. A NaN in a float column therefore
counts as null: it passes `float | None` and fails `float`.

The valid frame holds the valid rows (original index) and the contract's columns in the
model's field order (then the extra columns if the model allows extras), converted as
Pydantic converts them: numeric strings become numbers, ISO strings datetimes, defaults
fill absent optional columns, Enum fields hold their members' values. A column whose dtype
already fits its field is passed through as it is (int32 stays int32, a category column
stays categorical, a datetime64 column stays datetime64 for a `date` field), without a copy.
Model validators (mode "after") decide verdicts; changes they make to field values are not
carried into the valid frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from shipml.contracts._columns import typed_column
from shipml.contracts._compile import Contract, compile_contract
from shipml.contracts._frame import ROW, FrameCheck, check_frame
from shipml.contracts._small import AllValid, check_small_frame, frame_dtypes
from shipml.contracts.baseline import Baseline
from shipml.contracts.diagnose import diagnose
from shipml.contracts.report import MAX_EXAMPLES, Example, RuleFailure, ValidationReport
from shipml.errors import ContractViolation

__all__ = ["REASONS_COLUMN", "ROW", "Policy", "ValidationResult", "validate"]

Policy = Literal["fail", "quarantine"]
POLICIES: tuple[Policy, ...] = ("fail", "quarantine")
REASONS_COLUMN = "_reasons"


@dataclass(frozen=True)
class ValidationResult:
    """Rows that passed (converted to the contract's types), rows that did not, and the report."""

    valid: pd.DataFrame
    quarantined: pd.DataFrame  # the invalid rows as received, plus a `_reasons` column
    report: ValidationReport


def validate(
    df: pd.DataFrame,
    model: type[BaseModel],
    *,
    policy: Policy = "fail",
    max_invalid_fraction: float = 0.1,
    baseline: Baseline | None = None,
) -> ValidationResult:
    """Validate `df` against `model`; raise `ContractViolation` as the policy says.

    `fail`: any invalid row raises. `quarantine`: invalid rows are set aside with their
    reasons and the valid rows go on, unless more than `max_invalid_fraction` are invalid.
    """
    _check_arguments(df, policy, max_invalid_fraction)
    contract = compile_contract(model)
    small = check_small_frame(df, contract)
    if small is not None:
        return _all_valid(df, contract, small, baseline)
    checked = check_frame(df, contract)
    report = _report(df, contract, checked, baseline, df.columns.tolist())
    _apply_policy(report, policy, max_invalid_fraction)
    valid = ~checked.invalid
    if report.invalid_rows:
        quarantined = _quarantined_frame(df, checked)
    else:
        layout = (tuple(df.columns), tuple(frame_dtypes(df)), df.index.name)
        quarantined = _no_quarantined_rows(df, checked, layout)
    return ValidationResult(
        valid=_valid_frame(df, contract, checked, valid),
        quarantined=quarantined,
        report=report,
    )


def _all_valid(
    df: pd.DataFrame, contract: Contract, small: AllValid, baseline: Baseline | None
) -> ValidationResult:
    """Every row valid, every column in its field's type: the frame goes on (dates read)."""
    checked = FrameCheck({}, np.zeros(len(df), dtype=bool), {}, small.null_counts)
    valid = df.copy(deep=False)
    for name, values in small.converted.items():
        valid[name] = values.array
    return ValidationResult(
        valid=valid,
        quarantined=_no_quarantined_rows(df, checked, small.layout),
        # The small-frame check found exactly the contract's fields, in order.
        report=_report(df, contract, checked, baseline, contract.field_names),
    )


# Empty quarantine frames by column layout. Building one costs more than the rest of a small
# frame's validation (pandas inserts the reasons column); copying a built one does not.
_EMPTY_QUARANTINES: dict[tuple[Any, ...], pd.DataFrame] = {}
_MAX_LAYOUTS = 256


def _no_quarantined_rows(
    df: pd.DataFrame, checked: FrameCheck, layout: tuple[Any, ...]
) -> pd.DataFrame:
    """`_quarantined_frame` of a frame without invalid rows: built once per layout, then copied."""
    if not isinstance(df.index, pd.RangeIndex):
        return _quarantined_frame(df, checked)
    empty = _EMPTY_QUARANTINES.get(layout)
    if empty is None:
        if len(_EMPTY_QUARANTINES) >= _MAX_LAYOUTS:
            _EMPTY_QUARANTINES.clear()
        empty = _EMPTY_QUARANTINES.setdefault(layout, _quarantined_frame(df, checked))
    return empty.copy()


def _check_arguments(df: Any, policy: Any, max_invalid_fraction: Any) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"validate() takes a pandas DataFrame, not {type(df).__name__}")
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}: expected 'fail' or 'quarantine'")
    if not 0 <= max_invalid_fraction <= 1:
        raise ValueError(
            f"max_invalid_fraction must be between 0 and 1, not {max_invalid_fraction!r}"
        )


# ---------------------------------------------------------------- the report


def _report(
    df: pd.DataFrame,
    contract: Contract,
    checked: FrameCheck,
    baseline: Baseline | None,
    names: list[Any],
) -> ValidationReport:
    """The report of `checked`; `names` are `df`'s column labels (read once by the caller)."""
    rule_failures = [
        RuleFailure(
            column=column,
            rule=rule,
            message=message,
            count=len(positions),
            examples=_examples(df, column, positions),
        )
        for column, column_failures in checked.failures.items()
        for (rule, message), positions in column_failures.merged().items()
    ]
    fields = set(contract.columns)
    present = {str(c) for c in names}
    missing = [f.column for f in contract.fields if f.required and f.column not in present]
    report = ValidationReport(
        contract=contract.name,
        rows=len(df),
        invalid_rows=int(np.count_nonzero(checked.invalid)),
        failures=rule_failures,
        null_counts=checked.null_counts,
        missing_columns=missing,
        unexpected_columns=[str(c) for c in names if c not in fields],
    )
    report.diagnoses = diagnose(df, contract, report, baseline)
    return report


def _examples(df: pd.DataFrame, column: str, positions: np.ndarray) -> list[Example]:
    shown = positions[:MAX_EXAMPLES]
    names = [str(c) for c in df.columns]
    if names.count(column) != 1:
        return [Example(row=int(p), value=None) for p in shown]
    # A few values: `iat` each (microseconds), not `iloc` (a Series built: ~0.1 ms a failure).
    at = names.index(column)
    return [Example(row=int(p), value=_json_safe(df.iat[int(p), at])) for p in shown]


def _json_safe(value: Any) -> Any:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):  # lone surrogates escaped, so that the report is valid JSON
        return value[:200].encode("utf-8", "backslashreplace").decode("utf-8")
    return repr(value)[:200].encode("utf-8", "backslashreplace").decode("utf-8")


def _apply_policy(report: ValidationReport, policy: Policy, max_invalid_fraction: float) -> None:
    if report.ok:
        return
    if policy == "fail":
        raise ContractViolation(report)
    fraction = report.invalid_rows / max(report.rows, 1)
    if fraction > max_invalid_fraction:
        raise ContractViolation(
            report,
            f"{fraction:.1%} of rows invalid, above the quarantine limit "
            f"of {max_invalid_fraction:.1%}",
        )


# ---------------------------------------------------------------- the frames


def _valid_frame(
    df: pd.DataFrame, contract: Contract, checked: FrameCheck, valid: np.ndarray
) -> pd.DataFrame:
    """The valid rows, with the contract's columns converted and defaults filled in."""
    columns: dict[str, pd.Series] = {
        name: checked.converted[name] for name in contract.field_names if name in checked.converted
    }
    if contract.extra == "allow":
        fields = set(contract.columns)
        columns |= {name: df[name] for name in df.columns if name not in fields}
    kept = None if valid.all() else np.flatnonzero(valid)
    index = df.index if kept is None else df.index.take(kept)
    return pd.DataFrame(
        {name: _valid_values(column, kept, index) for name, column in columns.items()},
        index=index,
        copy=False,
    )


def _valid_values(column: pd.Series, kept: np.ndarray | None, index: pd.Index) -> Any:
    """The values of `column` in the rows `kept` (all when None), in their pandas dtype."""
    if kept is not None:
        column = pd.Series(column.array.take(kept), index=index, name=column.name)
    typed = typed_column(column)
    # An object column stays one (as a Series: the frame would infer strings from an array,
    # and lone surrogates cannot be stored as pyarrow strings).
    return typed if typed.dtype == np.dtype(object) else typed.array


def _quarantined_frame(df: pd.DataFrame, checked: FrameCheck) -> pd.DataFrame:
    """Invalid rows as received, each with the reasons it failed ("column: rule; ...")."""
    rows, reasons = _reasons_by_row(checked)
    quarantined = df.take(rows)
    quarantined[REASONS_COLUMN] = pd.array(reasons, dtype="str")
    return quarantined


def _reasons_by_row(checked: FrameCheck) -> tuple[np.ndarray, list[str]]:
    """The failing row positions (sorted) and, for each, its "column: rule" list."""
    positions: list[np.ndarray] = []
    labels: list[str] = []
    for column, column_failures in checked.failures.items():
        for (rule, _), rule_positions in column_failures.merged().items():
            positions.append(rule_positions)
            labels += [f"{column}: {rule}"] * len(rule_positions)
    if not positions:
        return np.empty(0, dtype=np.intp), []
    all_positions = np.concatenate(positions)
    order = np.argsort(all_positions, kind="stable")
    sorted_positions, sorted_labels = all_positions[order], np.array(labels, dtype=object)[order]
    starts = np.flatnonzero(np.r_[True, sorted_positions[1:] != sorted_positions[:-1]])
    groups = np.split(sorted_labels, starts[1:])
    return sorted_positions[starts], ["; ".join(group) for group in groups]
