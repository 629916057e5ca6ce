"""UTC time: the only time the store writes, whatever the database keeps."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_utc(value: datetime, name: str) -> datetime:
    """`value` converted to UTC; a naive datetime is refused (its zone would be a guess)."""
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime ({value}); pass a timezone-aware one")
    return value.astimezone(UTC)


def to_utc_or_none(value: datetime | None, name: str) -> datetime | None:
    """Like `to_utc`, letting None through."""
    return None if value is None else to_utc(value, name)
