"""Moments given by the caller, checked and brought to UTC."""

from __future__ import annotations

from datetime import datetime

import pandas as pd


def utc_timestamp(moment: datetime | str, name: str) -> pd.Timestamp:
    """`moment` as a UTC timestamp; a one-line ValueError naming `name` when it is not usable."""
    try:
        stamp = pd.Timestamp(moment)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} is not a timestamp: {moment!r}") from error
    if pd.isna(stamp):
        raise ValueError(f"{name} is not a timestamp: {moment!r}")
    if stamp.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (e.g. 2026-01-05T00:00Z), got {moment!r}")
    return stamp.tz_convert("UTC")
