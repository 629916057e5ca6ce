"""Small column helpers the diagnoses share."""

from __future__ import annotations

import numpy as np
import pandas as pd


def single_column(df: pd.DataFrame, label: object) -> pd.Series | None:
    """The column `label`, or None when it is absent or appears more than once."""
    if label not in df.columns:
        return None
    column = df[label]
    return column if isinstance(column, pd.Series) else None


def evenly_spaced(column: pd.Series, size: int) -> pd.Series:
    """Up to `size` non-null values spread over the whole column."""
    if len(column) > size:
        column = column.iloc[np.linspace(0, len(column) - 1, size).astype(np.intp)]
    return column.dropna()
