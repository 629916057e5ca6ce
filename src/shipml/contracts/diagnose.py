"""Likely causes behind failures: renamed columns, switched date formats, null surges.

Diagnoses only add explanation to a report: they never change its verdict, and one
that breaks on odd input is logged and left out rather than raised. On a clean frame
without a baseline they cost nothing, except a comparison of names when a field is
absent and an unknown column is present (an optional field renamed upstream would
otherwise be filled with its default without a word).

- renamed_column / missing_column: a field absent from the frame, and the unknown column
  most likely to be it, scored on its name (case and separators, abbreviations, dropped
  vowels, initials, reordered words, prefixes, unit suffixes, spelling), its dtype, its
  values against the field's baseline (close, alike across seasons, or unlike) and the
  structure (the only missing column and the only new one that fits), with a confidence,
  the signals that carried it and the `AliasChoices` fix (see `_renames`).
- date_format: a column of date strings whose format changes (ISO 8601, YYYY/MM/DD,
  MM/DD/YYYY, DD/MM/YYYY), with the row of the switch and the day/month ambiguity; for a
  field with a declared format (`DateFormat`), the rows in another format and which.
- null_rate: a null rate far above the baseline's (see `_null_rates` for "far"), or, with
  no baseline, a failing frame's field that is null in every row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from shipml.contracts._date_formats import date_formats
from shipml.contracts._null_rates import null_rates
from shipml.contracts._renames import renamed_columns, renames_possible
from shipml.contracts.baseline import Baseline
from shipml.contracts.report import Diagnosis, ValidationReport

if TYPE_CHECKING:
    from shipml.contracts._compile import Contract

_log = logging.getLogger(__name__)

_Step = Callable[[pd.DataFrame, "Contract", ValidationReport, Baseline | None], list[Diagnosis]]


def diagnose(
    df: pd.DataFrame, contract: Contract, report: ValidationReport, baseline: Baseline | None
) -> list[Diagnosis]:
    """Likely causes of the report's failures and, given a baseline, of silent changes."""
    if report.ok and baseline is None:
        # A rename needs a column the contract does not know, which the report would list.
        possible = bool(report.unexpected_columns) and renames_possible(df, contract)
        steps: tuple[_Step, ...] = (renamed_columns,) if possible else ()
    else:
        steps = (renamed_columns, date_formats, null_rates)
    found: list[Diagnosis] = []
    for step in steps:
        try:
            found.extend(step(df, contract, report, baseline))
        except Exception:  # an explanation must never break the validation it explains
            _log.warning("diagnosis %s failed on %s", step.__name__, contract.name, exc_info=True)
    return found
