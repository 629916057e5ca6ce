"""Faults to inject into simulated readings, each a small composable value.

A fault either changes the simulated process (`adjust`, applied before generation) or the
produced frame (`apply`, applied after, in the order the faults are given). `AmericanDates`
turns `ts` into text, so list it after any fault that needs timestamps (`SensorDrift`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from ._time import utc_timestamp
from .regime import Regime

AMERICAN_DATE_FORMAT = "%m/%d/%Y %H:%M"


@dataclass(frozen=True)
class Fault:
    """Base of all faults: by default it changes nothing."""

    def adjust(self, regime: Regime) -> Regime:
        """The process parameters under this fault."""
        return regime

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame under this fault (a new frame; the input is left as it was)."""
        return frame


@dataclass(frozen=True)
class RenamedColumn(Fault):
    """A column renamed upstream, e.g. `temperature_c` arriving as `temp_c`."""

    old: str = "temperature_c"
    new: str = "temp_c"

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with `old` renamed to `new`."""
        _require_column(frame, self.old, self)
        if self.new in frame.columns:
            raise ValueError(f"{self}: the frame already has a column {self.new!r}")
        return frame.rename(columns={self.old: self.new})


@dataclass(frozen=True)
class SensorNulls(Fault):
    """A sensor starting to return nulls: `fraction` of the rows (chosen by `seed`) lose it."""

    column: str = "vibration_mm_s"
    fraction: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"SensorNulls.fraction must be within [0, 1], got {self.fraction}")

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with round(fraction * rows) values of `column` set to null."""
        _require_column(frame, self.column, self)
        count = round(self.fraction * len(frame))
        rows = np.random.default_rng(self.seed).choice(len(frame), size=count, replace=False)
        nulled = np.zeros(len(frame), dtype=bool)
        nulled[rows] = True
        out = frame.copy()
        out[self.column] = out[self.column].mask(nulled)
        return out


@dataclass(frozen=True)
class AmericanDates(Fault):
    """Timestamps written as text in American MM/DD/YYYY HH:MM (UTC) instead of ISO 8601."""

    column: str = "ts"

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with `column` as strings such as "03/14/2026 09:05"."""
        _require_timestamps(frame, self.column, self)
        out = frame.copy()
        out[self.column] = out[self.column].dt.tz_convert("UTC").dt.strftime(AMERICAN_DATE_FORMAT)
        return out


@dataclass(frozen=True)
class SensorDrift(Fault):
    """A sensor drifting by `per_hour` units per hour from `since` (default: the first row)."""

    column: str = "temperature_c"
    per_hour: float = 0.5
    since: datetime | None = None

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with `per_hour * hours since the drift began` added to `column`."""
        _require_column(frame, self.column, self)
        _require_timestamps(frame, "ts", self)
        origin = frame["ts"].min()
        if self.since is not None:
            origin = utc_timestamp(self.since, f"{self}: since")
        hours = (frame["ts"] - origin).dt.total_seconds().to_numpy() / 3600.0
        out = frame.copy()
        out[self.column] = out[self.column] + self.per_hour * np.clip(hours, 0.0, None)
        return out


@dataclass(frozen=True)
class FailureRateShift(Fault):
    """Machines fail `factor` times as often, so degraded readings (and high risk) are common."""

    factor: float = 3.0

    def __post_init__(self) -> None:
        if self.factor < 0:
            raise ValueError(f"FailureRateShift.factor must be >= 0, got {self.factor}")

    def adjust(self, regime: Regime) -> Regime:
        """The regime with the failure probability scaled by `factor` (at most 1)."""
        shifted = min(1.0, regime.failure_probability * self.factor)
        return dataclasses.replace(regime, failure_probability=shifted)


@dataclass(frozen=True)
class RelationChanged(Fault):
    """Failures no longer follow the sensors: the labels of a window are shuffled among its
    readings (seeded). The readings, their distribution and the failure rate stay the same,
    so the model's predictions barely move; only the labels that arrive later show it."""

    column: str = "failure_within_1h"
    seed: int = 0

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with its label column permuted (unchanged when it has no labels)."""
        if self.column not in frame.columns:
            return frame
        shuffled = frame.copy()
        order = np.random.default_rng(self.seed).permutation(len(frame))
        shuffled[self.column] = frame[self.column].to_numpy()[order]
        return shuffled


def _require_column(frame: pd.DataFrame, column: str, fault: Fault) -> None:
    if column not in frame.columns:
        raise ValueError(f"{fault}: the frame has no column {column!r}")


def _require_timestamps(frame: pd.DataFrame, column: str, fault: Fault) -> None:
    _require_column(frame, column, fault)
    if not isinstance(frame[column].dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"{fault}: column {column!r} must hold timezone-aware timestamps, "
            f"not {frame[column].dtype} (list AmericanDates after this fault)"
        )
