"""Diagnosis: a null rate far above the baseline's, or a field null in every row."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from shipml.contracts.baseline import Baseline
from shipml.contracts.report import Diagnosis, ValidationReport

if TYPE_CHECKING:
    from shipml.contracts._compile import Contract


_MIN_NULLS = 5
_MIN_RATE_RATIO = 2.0
_MIN_RATE_RISE = 0.05
_SURPRISE = math.log(1000)  # a surge needs a chance below 1/1000 at the baseline rate
_ALL_NULL_MIN_ROWS = 10


def null_rates(
    df: pd.DataFrame, contract: Contract, report: ValidationReport, baseline: Baseline | None
) -> list[Diagnosis]:
    found: list[Diagnosis] = []
    fields = set(contract.columns)
    for name, nulls in report.null_counts.items():
        reference = baseline.columns.get(name) if baseline is not None else None
        if reference is not None:
            if _null_surge(nulls, report.rows, reference.null_rate):
                found.append(_surge_diagnosis(name, nulls, report.rows, reference.null_rate))
        elif not report.ok and name in fields and _all_null(nulls, report.rows):
            found.append(_all_null_diagnosis(name, nulls))
    return found


def _all_null(nulls: int, rows: int) -> bool:
    return rows >= _ALL_NULL_MIN_ROWS and nulls == rows


def _null_surge(nulls: int, rows: int, baseline_rate: float) -> bool:
    """True when `nulls` of `rows` is far above the baseline null rate.

    Far means all of: at least 5 nulls; a rate above max(2 x baseline, baseline + 5 points);
    and a binomial tail below 1/1000 at the baseline rate, by the Chernoff bound
    P(X >= k) <= exp(-n KL(k/n || p)), so small frames need a larger rise to count.
    """
    if rows == 0 or nulls < _MIN_NULLS:
        return False
    rate = nulls / rows
    if rate <= max(_MIN_RATE_RATIO * baseline_rate, baseline_rate + _MIN_RATE_RISE):
        return False
    return rows * _bernoulli_divergence(rate, baseline_rate) >= _SURPRISE


def _bernoulli_divergence(rate: float, expected: float) -> float:
    """KL(rate || expected) of two Bernoulli distributions, for rate > expected."""
    if expected <= 0:
        return math.inf
    divergence = rate * math.log(rate / expected)
    if rate < 1:
        divergence += (1 - rate) * math.log((1 - rate) / (1 - expected))
    return divergence


def _all_null_diagnosis(name: str, rows: int) -> Diagnosis:
    return Diagnosis(
        kind="null_rate",
        column=name,
        message=f"{name} is null in every row ({rows} rows): the source sent no values for it",
        details={"nulls": rows, "rows": rows, "rate": 1.0},
    )


def _surge_diagnosis(name: str, nulls: int, rows: int, baseline_rate: float) -> Diagnosis:
    rate = nulls / rows
    return Diagnosis(
        kind="null_rate",
        column=name,
        message=f"{name} is null in {rate:.1%} of rows ({nulls} of {rows}), far above "
        f"{baseline_rate:.1%} in the baseline (a source stopped sending values?)",
        details={"nulls": nulls, "rows": rows, "rate": rate, "baseline_rate": baseline_rate},
    )
