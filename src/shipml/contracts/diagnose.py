"""Likely causes behind failures: renamed columns, switched date formats, null surges."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from shipml.contracts.baseline import Baseline
from shipml.contracts.report import Diagnosis, ValidationReport

if TYPE_CHECKING:
    from shipml.contracts._compile import Contract


def diagnose(
    df: pd.DataFrame, contract: Contract, report: ValidationReport, baseline: Baseline | None
) -> list[Diagnosis]:
    """Diagnoses for a report."""
    return []
