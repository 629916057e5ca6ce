"""The reference both agreement tests hold `validate` to: Pydantic on each row's record.

Each row of `df.to_dict("records")`, with missing values (None, NaN, NaT, pd.NA) as None,
goes through `M.model_validate`; shipml's verdict is the rows `validate` quarantines.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from shipml.contracts import validate


def is_missing(value: Any) -> bool:
    """Whether a record value counts as missing (None in Pydantic's record)."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def rows_pydantic_rejects(df: pd.DataFrame, model: type[BaseModel]) -> set[int]:
    """Positions of the rows whose record `model.model_validate` rejects."""
    rejected = set()
    for position, record in enumerate(df.to_dict("records")):
        cleaned = {key: None if is_missing(value) else value for key, value in record.items()}
        try:
            model.model_validate(cleaned)
        except ValidationError:
            rejected.add(position)
    return rejected


def rows_shipml_rejects(df: pd.DataFrame, model: type[BaseModel]) -> set[int]:
    """Positions of the rows `validate` quarantines (the frame has a RangeIndex)."""
    result = validate(df, model, policy="quarantine", max_invalid_fraction=1.0)
    assert len(result.valid) + len(result.quarantined) == len(df)
    assert result.report.invalid_rows == len(result.quarantined)
    return set(result.quarantined.index.tolist())
