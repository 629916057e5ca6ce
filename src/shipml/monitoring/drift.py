"""Drift per column between a reference profile and a current one.

Methods (drift when value > threshold; for `null_rate`, when |value| > threshold), one
entry each in `DRIFT_METHODS`:

| method           | kinds                | value                            | default |
|------------------|----------------------|----------------------------------|---------|
| `psi`            | numeric, categorical | population stability index       | 0.2     |
| `ks`             | numeric              | binned KS statistic (D)          | 0.1     |
| `jensen_shannon` | numeric, categorical | Jensen-Shannon distance (base 2) | 0.1     |
| `chi_square`     | numeric, categorical | Cramér's V (size-free)           | 0.1     |
| `null_rate`      | every column         | null rate, current - reference   | 0.05    |

Numeric columns use `psi` and categorical ones `jensen_shannon` unless configured
otherwise; the null-rate check runs on every column. Thresholds are on effect sizes,
not p-values: at 100k+ rows a KS or chi-square test rejects for negligible differences,
so p-values are reported (for `ks` and `chi_square`) but never decide. See
`shipml.monitoring.metrics` for the formulas and their noise levels.

Documented false-alarm rate: with the default thresholds, 20 quantile bins and up to 10
categories, each check flags drift in at most 1% of windows drawn from the reference
distribution, for windows of at least

- 900 rows: `psi`, `ks`, `null_rate`, and `jensen_shannon` / `chi_square` on
  categorical columns;
- 2000 rows: `jensen_shannon` / `chi_square` on numeric columns (22 histogram bins).

(Tested on 200 windows per case.) Smaller windows are noisier: the same-distribution PSI
is about (bins - 1) / rows and the distances grow as 1 / sqrt(rows); see
`shipml.monitoring.metrics`. With 20 bins a PSI of 0.2 means nothing below ~150 rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from shipml.errors import MonitoringError
from shipml.monitoring import metrics
from shipml.monitoring.profiles import CategoricalColumnProfile, NumericColumnProfile, Profile

NULL_RATE = "null_rate"
NULL_RATE_THRESHOLD = 0.05
DEFAULT_MIN_ROWS = 100

ColumnProfileType = NumericColumnProfile | CategoricalColumnProfile
Measure = Callable[[np.ndarray, np.ndarray], tuple[float, float | None]]


@dataclass(frozen=True)
class DriftMethodSpec:
    """A distribution method: how it measures two count vectors, on which columns, its default."""

    measure: Measure  # (reference counts, current counts) -> (value, p-value or None)
    kinds: frozenset[str]  # "numeric", "categorical"
    threshold: float


def _no_p_value(distance: Callable[[np.ndarray, np.ndarray], float]) -> Measure:
    return lambda reference, current: (distance(reference, current), None)


_BOTH = frozenset({"numeric", "categorical"})
DRIFT_METHODS: dict[str, DriftMethodSpec] = {
    "psi": DriftMethodSpec(_no_p_value(metrics.population_stability_index), _BOTH, 0.2),
    "ks": DriftMethodSpec(metrics.binned_ks, frozenset({"numeric"}), 0.1),
    "jensen_shannon": DriftMethodSpec(_no_p_value(metrics.jensen_shannon_distance), _BOTH, 0.1),
    "chi_square": DriftMethodSpec(metrics.chi_square, _BOTH, 0.1),
}
DEFAULT_THRESHOLDS: dict[str, float] = {
    **{name: method.threshold for name, method in DRIFT_METHODS.items()},
    NULL_RATE: NULL_RATE_THRESHOLD,
}


def _known_method(name: str) -> str:
    if name not in DRIFT_METHODS:
        expected = ", ".join(repr(known) for known in DRIFT_METHODS)
        raise ValueError(f"expected one of {expected}, got {name!r}")
    return name


DriftMethod = Annotated[str, AfterValidator(_known_method)]


class ColumnDriftRule(BaseModel):
    """[monitoring.columns.<name>]: another method or threshold for one column."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: DriftMethod | None = None
    threshold: float | None = Field(default=None, ge=0)
    null_rate_threshold: float | None = Field(default=None, ge=0, le=1)


class DriftConfig(BaseModel):
    """Which method and threshold each column uses (defaults in the module docstring).

    Thresholds are effect sizes (PSI, KS statistic, Jensen-Shannon distance, Cramér's V),
    not p-values: at thousands of rows a p-value flags differences too small to matter.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    numeric_method: DriftMethod = "psi"
    categorical_method: DriftMethod = "jensen_shannon"
    # Below this many values in the window a column is not judged: binned distances of a
    # few dozen values swing past any threshold by chance alone.
    drift_min_rows: int = Field(default=DEFAULT_MIN_ROWS, ge=1)
    thresholds: dict[str, float] = Field(default_factory=dict)  # overrides of the defaults
    columns: dict[str, ColumnDriftRule] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_methods(self) -> DriftConfig:
        unknown = sorted(set(self.thresholds) - set(DEFAULT_THRESHOLDS))
        if unknown:
            raise ValueError(
                f"unknown drift method(s) {unknown} in thresholds; "
                f"expected some of {sorted(DEFAULT_THRESHOLDS)}"
            )
        if "categorical" not in DRIFT_METHODS[self.categorical_method].kinds:
            raise ValueError(f"{self.categorical_method} needs ordered values, not categories")
        return self

    def method_for(self, column: str, kind: str) -> tuple[str, float]:
        """The distribution method and its threshold for a column of the given kind."""
        rule = self.columns.get(column, ColumnDriftRule())
        default = self.numeric_method if kind == "numeric" else self.categorical_method
        method = rule.method or default
        if kind not in DRIFT_METHODS[method].kinds:
            raise MonitoringError(f"column '{column}' is {kind}; {method} needs ordered values")
        threshold = rule.threshold if rule.threshold is not None else self._threshold(method)
        return method, threshold

    def null_rate_threshold_for(self, column: str) -> float:
        """The largest tolerated change of a column's null rate."""
        rule = self.columns.get(column, ColumnDriftRule())
        if rule.null_rate_threshold is not None:
            return rule.null_rate_threshold
        return self._threshold(NULL_RATE)

    def _threshold(self, method: str) -> float:
        return self.thresholds.get(method, DEFAULT_THRESHOLDS[method])


class DriftResult(BaseModel):
    """One check of one column: the value, its threshold and the verdict."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    method: str  # a name of `DRIFT_METHODS`, or "null_rate"
    value: float | None  # None when a side has no values to compare (see `note`)
    threshold: float
    drifted: bool
    p_value: float | None = None
    reference_count: int  # non-null values (rows for the null-rate check)
    current_count: int
    note: str = ""


def detect_drift(
    reference: Profile, current: Profile, config: DriftConfig | None = None
) -> list[DriftResult]:
    """Compare every column of `current` with `reference`: distribution, then null rate."""
    config = config or DriftConfig()
    unknown_rules = sorted(set(config.columns) - set(current.columns))
    if unknown_rules:
        raise MonitoringError(f"drift rules name columns that are not profiled: {unknown_rules}")
    results: list[DriftResult] = []
    for name, current_column in current.columns.items():
        reference_column = reference.columns.get(name)
        if reference_column is None:
            raise MonitoringError(f"column '{name}' is not in the reference profile")
        _check_same_bins(name, reference_column, current_column)
        method, threshold = config.method_for(name, current_column.kind)
        results.append(
            _distribution_drift(
                name, method, threshold, reference_column, current_column, config.drift_min_rows
            )
        )
        results.append(
            _null_rate_drift(
                name,
                config.null_rate_threshold_for(name),
                reference_column,
                current_column,
                config.drift_min_rows,
            )
        )
    return results


def _check_same_bins(name: str, reference: ColumnProfileType, current: ColumnProfileType) -> None:
    if reference.spec != current.spec:
        raise MonitoringError(
            f"column '{name}' was profiled on different bins or categories than the reference"
        )


def _bin_counts(column: ColumnProfileType) -> np.ndarray:
    if isinstance(column, NumericColumnProfile):
        return np.asarray(column.counts, dtype=np.int64)
    return np.asarray([*column.counts, column.other], dtype=np.int64)


def _distribution_drift(
    name: str,
    method: str,
    threshold: float,
    reference: ColumnProfileType,
    current: ColumnProfileType,
    min_rows: int = 1,
) -> DriftResult:
    reference_counts, current_counts = _bin_counts(reference), _bin_counts(current)
    counts = {
        "reference_count": int(reference_counts.sum()),
        "current_count": int(current_counts.sum()),
    }
    if counts["reference_count"] == 0 or counts["current_count"] == 0:
        return DriftResult(
            column=name,
            method=method,
            value=None,
            threshold=threshold,
            drifted=False,
            note="no non-null values on one side; only the null-rate check applies",
            **counts,
        )
    if counts["current_count"] < min_rows:
        return DriftResult(
            column=name,
            method=method,
            value=None,
            threshold=threshold,
            drifted=False,
            note=f"{counts['current_count']} values, fewer than {min_rows}: too few to judge",
            **counts,
        )
    value, p_value = DRIFT_METHODS[method].measure(reference_counts, current_counts)
    return DriftResult(
        column=name,
        method=method,
        value=value,
        threshold=threshold,
        drifted=value > threshold,
        p_value=p_value,
        **counts,
    )


def _null_rate_drift(
    name: str,
    threshold: float,
    reference: ColumnProfileType,
    current: ColumnProfileType,
    min_rows: int = 1,
) -> DriftResult:
    counts = {"reference_count": reference.rows, "current_count": current.rows}
    if reference.rows == 0 or current.rows < max(min_rows, 1):
        return DriftResult(
            column=name,
            method=NULL_RATE,
            value=None,
            threshold=threshold,
            drifted=False,
            note="no rows on one side, or fewer than the minimum in the window",
            **counts,
        )
    change = current.nulls / current.rows - reference.nulls / reference.rows
    return DriftResult(
        column=name,
        method=NULL_RATE,
        value=change,
        threshold=threshold,
        drifted=abs(change) > threshold,
        **counts,
    )
