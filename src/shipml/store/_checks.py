"""Argument checks that turn bad input into one-line errors before it reaches the database."""

from __future__ import annotations

import math
from collections.abc import Collection
from numbers import Integral, Real


def check_choice(value: str, allowed: Collection[str], what: str) -> str:
    """`value` if it is one of `allowed`, else a ValueError listing them."""
    if value not in allowed:
        expected = ", ".join(repr(choice) for choice in sorted(allowed))
        raise ValueError(f"unknown {what} {value!r}: expected one of {expected}")
    return value


def check_text(value: str, what: str, max_length: int, *, allow_empty: bool = False) -> str:
    """A string (non-empty unless `allow_empty`) that fits its column."""
    if not isinstance(value, str) or not (value or allow_empty):
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > max_length:
        raise ValueError(f"{what} is {len(value)} characters long; the limit is {max_length}")
    return value


def check_optional_text(value: str | None, what: str, max_length: int) -> str | None:
    """Like `check_text`, letting None through."""
    return None if value is None else check_text(value, what, max_length)


def check_count(value: int | None, what: str) -> int | None:
    """A row count: None or an integer >= 0 (numpy integers accepted)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def check_number(value: float | None, what: str) -> float | None:
    """None or a real number as a float; NaN becomes None (SQLite cannot store NaN)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return None if math.isnan(value) else float(value)
