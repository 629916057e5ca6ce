"""Simulated readings written as one file per batch window, the way an upstream system drops them.

Files are named `readings_{start:%Y%m%dT%H%M}.csv` (or `.parquet`) after the window's start in
UTC, e.g. `readings_20260105T1400.csv` for [14:00, 15:00) on 5 January 2026. CSV files hold
`ts` in ISO 8601 (`2026-01-05T14:00:00Z`) unless the window has the `AmericanDates` fault.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import pandas as pd

from ._time import utc_timestamp
from .faults import Fault
from .readings import simulate

FILE_TEMPLATE = "readings_{start:%Y%m%dT%H%M}.{fmt}"
ISO_8601 = "%Y-%m-%dT%H:%M:%SZ"
FileFormat = Literal["csv", "parquet"]


def window_file_name(window_start: datetime | str, fmt: FileFormat = "csv") -> str:
    """The file name of the window starting at `window_start`."""
    return FILE_TEMPLATE.format(start=utc_timestamp(window_start, "window_start"), fmt=fmt)


def window_starts(
    start: datetime | str, end: datetime | str, interval: timedelta
) -> list[pd.Timestamp]:
    """The starts of the consecutive windows of length `interval` that tile [start, end)."""
    first, last = utc_timestamp(start, "start"), utc_timestamp(end, "end")
    step = pd.Timedelta(interval)
    if step <= pd.Timedelta(0) or step % pd.Timedelta(minutes=1):
        raise ValueError(f"interval must be a positive whole number of minutes, got {interval}")
    if last <= first or (last - first) % step:
        raise ValueError(f"[{start}, {end}) is not a whole, non-empty number of {interval} windows")
    return list(pd.date_range(first, last, freq=step, inclusive="left"))


def write_windows(
    directory: str | os.PathLike[str],
    start: datetime | str,
    end: datetime | str,
    interval: timedelta,
    *,
    machines: int = 20,
    seed: int = 0,
    fmt: FileFormat = "csv",
    faults: Sequence[Fault] = (),
    faults_by_window: Mapping[datetime | str, Sequence[Fault]] | None = None,
    labelled: bool = False,
) -> list[Path]:
    """Write one file per window of [start, end) into `directory`; return their paths in order.

    `faults` apply to every window; `faults_by_window` adds faults to the windows whose start
    is given. Files are written atomically (a temporary file, then a rename).
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    starts = window_starts(start, end, interval)
    extra_faults = _faults_per_window(faults_by_window or {}, starts)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for window_start in starts:
        frame = simulate(
            window_start,
            window_start + pd.Timedelta(interval),
            machines=machines,
            seed=seed,
            faults=[*faults, *extra_faults.get(window_start, ())],
            labelled=labelled,
        )
        path = folder / window_file_name(window_start, fmt)
        _write_atomically(frame, path, fmt)
        paths.append(path)
    return paths


def _faults_per_window(
    faults_by_window: Mapping[datetime | str, Sequence[Fault]], starts: list[pd.Timestamp]
) -> dict[pd.Timestamp, Sequence[Fault]]:
    known = set(starts)
    by_start = {}
    for key, faults in faults_by_window.items():
        window_start = utc_timestamp(key, "faults_by_window key")
        if window_start not in known:
            raise ValueError(f"faults_by_window names {key!r}, which is not a window start")
        by_start[window_start] = faults
    return by_start


def _write_atomically(frame: pd.DataFrame, path: Path, fmt: FileFormat) -> None:
    partial = path.with_name(f".{path.name}.partial")
    if fmt == "csv":
        frame.to_csv(partial, index=False, date_format=ISO_8601)
    else:
        frame.to_parquet(partial, index=False, engine="pyarrow")
    os.replace(partial, path)
