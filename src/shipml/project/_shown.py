"""How a value from the user's data appears in an error line or a note."""

from __future__ import annotations

from typing import Any

import numpy as np

_SHOWN_CHARS = 60


def show(value: Any) -> str:
    """A short repr: numpy scalars as Python values, long ones cut with '...'."""
    if isinstance(value, np.generic):
        value = value.item()
    shown = repr(value)
    return shown if len(shown) <= _SHOWN_CHARS else shown[: _SHOWN_CHARS - 3] + "..."
