"""Simulated per-minute readings from a fleet of machines, with failures foreshadowed.

Every value is a pure function of (seed, machine, minute), so any window of time comes out the
same whether it is simulated alone or as part of a longer range. In the 2 to 6 hours before a
failure a machine degrades: temperature and vibration rise, pressure drops and rpm grows
unstable, more and more steeply as the failure nears. After a failure it stays in maintenance
for 30 to 90 minutes. `failure_within_1h` marks the 60 minutes before each failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.special import ndtri

from ._failures import Timeline, timeline
from ._random import normal, uniform, uniform_per_period
from ._time import utc_timestamp
from .faults import Fault
from .regime import Regime

LABEL = "failure_within_1h"
MAX_MACHINES = 1000
LABEL_HORIZON_MINUTES = 60

_MINUTES_PER_DAY = 1440

_MODES = ("idle", "run", "maintenance")
_IDLE, _RUN, _MAINTENANCE = 0, 1, 2  # positions in _MODES

_TEMPERATURE_NULL_RATE = 0.002
_IDLE_HOUR_RATE = 0.15
_DECIMALS = {"temperature_c": 2, "vibration_mm_s": 3, "pressure_bar": 3, "rpm": 1}

# Streams: one independent random sequence per quantity.
_NOISE_STREAMS = {"temperature_c": 1, "vibration_mm_s": 2, "pressure_bar": 3, "rpm": 4}
_TEMPERATURE_NULL, _IDLE_HOUR, _LOAD = 5, 6, 7
_TRAIT_TEMPERATURE, _TRAIT_VIBRATION, _TRAIT_PRESSURE, _TRAIT_RPM = 11, 12, 13, 14


def simulate(
    start: datetime | str,
    end: datetime | str,
    *,
    machines: int = 20,
    seed: int = 0,
    faults: Sequence[Fault] = (),
    labelled: bool = True,
) -> pd.DataFrame:
    """Readings for every minute in [start, end) and every machine, ordered by ts then machine.

    `start` and `end` are timezone-aware and whole minutes. `labelled` adds the
    `failure_within_1h` column (bool).
    """
    first, stop = _minutes_since_epoch(start, "start"), _minutes_since_epoch(end, "end")
    if stop <= first:
        raise ValueError(f"end ({end}) must be after start ({start})")
    _check_fleet(machines, seed)
    _check_faults(faults)
    regime = Regime()
    for fault in faults:
        regime = fault.adjust(regime)
    frame = _generate(first, stop, machines, seed, regime, labelled)
    for fault in faults:
        frame = fault.apply(frame)
    return frame


def machine_ids(machines: int) -> list[str]:
    """The ids of a fleet of `machines` machines: M-000, M-001, ..."""
    return [f"M-{number:03d}" for number in range(machines)]


@dataclass(frozen=True)
class _Traits:
    """Each machine's own normal operating point."""

    temperature: np.ndarray
    vibration: np.ndarray
    pressure: np.ndarray
    rpm: np.ndarray


def _generate(
    first: int, stop: int, machines: int, seed: int, regime: Regime, labelled: bool
) -> pd.DataFrame:
    minute = np.repeat(np.arange(first, stop, dtype=np.int64), machines)
    machine = np.tile(np.arange(machines, dtype=np.int64), stop - first)
    failures = timeline(seed, machine, minute, regime.failure_probability)
    mode = _modes(seed, machine, minute, failures)
    readings = _readings(seed, machine, minute, mode, failures.severity())
    frame = pd.DataFrame(
        {
            "machine_id": _strings(machine_ids(machines), machine),
            "ts": _utc_timestamps(minute),
            **readings,
            "mode": _strings(list(_MODES), mode),
        }
    )
    if labelled:
        frame[LABEL] = failures.minutes_to_failure <= LABEL_HORIZON_MINUTES
    return frame


def _utc_timestamps(minute: np.ndarray) -> pd.Series:
    """Minutes since the epoch as UTC timestamps (microsecond unit, as pandas parses text)."""
    return pd.Series(minute.astype("datetime64[m]").astype("datetime64[us]")).dt.tz_localize("UTC")


def _strings(labels: list[str], codes: np.ndarray) -> pd.Series:
    """A `str` column holding `labels[code]` per row (pyarrow builds it far faster than Python)."""
    taken = pa.array(labels).take(pa.array(codes))
    return pd.Series(pd.array(taken, dtype="str"))


def _modes(seed: int, machine: np.ndarray, minute: np.ndarray, failures: Timeline) -> np.ndarray:
    """Maintenance during repairs; otherwise idle for some whole hours unless degrading."""
    idle_hour = uniform_per_period(seed, _IDLE_HOUR, machine, minute // 60) < _IDLE_HOUR_RATE
    idle = idle_hour & (failures.severity() == 0.0)
    mode = np.where(idle, _IDLE, _RUN)
    return np.where(failures.under_repair(), _MAINTENANCE, mode)


def _readings(
    seed: int, machine: np.ndarray, minute: np.ndarray, mode: np.ndarray, severity: np.ndarray
) -> dict[str, np.ndarray]:
    """Sensor values per row: the machine's operating point, its mode, degradation and noise."""
    levels = _levels(seed, machine, minute, mode, severity)
    scales = _noise_scales(mode, severity)
    values = {
        column: levels[column] + scales[column] * normal(seed, stream, machine, minute)
        for column, stream in _NOISE_STREAMS.items()
    }
    values["vibration_mm_s"] = np.abs(values["vibration_mm_s"])
    values["pressure_bar"] = np.clip(values["pressure_bar"], 0.0, None)
    values["rpm"] = np.clip(values["rpm"], 0.0, None)
    missing = uniform(seed, _TEMPERATURE_NULL, machine, minute) < _TEMPERATURE_NULL_RATE
    values["temperature_c"] = np.where(missing, np.nan, values["temperature_c"])
    return {column: np.round(values[column], _DECIMALS[column]) for column in _NOISE_STREAMS}


def _levels(
    seed: int, machine: np.ndarray, minute: np.ndarray, mode: np.ndarray, severity: np.ndarray
) -> dict[str, np.ndarray]:
    """The noise-free value of each sensor, by mode (idle, run, maintenance)."""
    traits = _traits(seed, int(machine.max(initial=0)) + 1)
    ambient = 3.0 * np.sin(2.0 * np.pi * (minute % _MINUTES_PER_DAY) / _MINUTES_PER_DAY)
    # Heavy load is harmless but looks like early degradation; it keeps the task non-trivial.
    load = np.clip(ndtri(uniform_per_period(seed, _LOAD, machine, minute // 60)), -2.0, 2.0)
    temperature = traits.temperature[machine] + ambient
    vibration = traits.vibration[machine]
    pressure = traits.pressure[machine]
    zeros = np.zeros(len(minute))
    by_mode = {
        "temperature_c": (
            temperature - 15.0,
            temperature + 4.0 * load + 9.0 * severity**1.5,
            25.0 + ambient,
        ),
        "vibration_mm_s": (
            0.3 * vibration,
            vibration * (1.0 + 0.25 * load + 0.9 * severity**2),
            zeros,
        ),
        "pressure_bar": (
            0.5 * pressure,
            pressure - 0.2 * load - 0.6 * severity**2,
            zeros + 1.0,
        ),
        "rpm": (zeros + 400.0, traits.rpm[machine], zeros),
    }
    return {column: _by_mode(mode, *choices) for column, choices in by_mode.items()}


def _noise_scales(mode: np.ndarray, severity: np.ndarray) -> dict[str, np.ndarray]:
    """The noise of each sensor, by mode (idle, run, maintenance); rpm wavers as it degrades."""
    return {
        "temperature_c": _by_mode(mode, 2.0, 2.5, 1.5),
        "vibration_mm_s": _by_mode(mode, 0.1, 0.45, 0.05),
        "pressure_bar": _by_mode(mode, 0.1, 0.25, 0.05),
        "rpm": _by_mode(mode, 120.0, 12.0, 0.0) * (1.0 + 1.5 * severity),
    }


def _by_mode(
    mode: np.ndarray,
    idle: np.ndarray | float,
    run: np.ndarray | float,
    maintenance: np.ndarray | float,
) -> np.ndarray:
    """Per row, the value given for the row's mode."""
    return np.where(mode == _RUN, run, np.where(mode == _IDLE, idle, maintenance))


def _traits(seed: int, machines: int) -> _Traits:
    fleet = np.arange(machines)
    origin = np.zeros(machines, dtype=np.int64)
    return _Traits(
        temperature=62.0 + 4.0 * normal(seed, _TRAIT_TEMPERATURE, fleet, origin),
        vibration=np.clip(2.2 + 0.3 * normal(seed, _TRAIT_VIBRATION, fleet, origin), 1.0, None),
        pressure=6.0 + 0.3 * normal(seed, _TRAIT_PRESSURE, fleet, origin),
        rpm=1500.0 + 20.0 * normal(seed, _TRAIT_RPM, fleet, origin),
    )


def _minutes_since_epoch(moment: datetime | str, name: str) -> int:
    seconds = utc_timestamp(moment, name).timestamp()
    if seconds % 60:
        raise ValueError(f"{name} must be a whole minute, got {moment!r}")
    return int(seconds // 60)


def _check_fleet(machines: int, seed: int) -> None:
    if not isinstance(machines, int) or not 1 <= machines <= MAX_MACHINES:
        raise ValueError(f"machines must be an integer from 1 to {MAX_MACHINES}, got {machines!r}")
    if not isinstance(seed, int) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an integer from 0 to 2**64 - 1, got {seed!r}")


def _check_faults(faults: Sequence[Fault]) -> None:
    for fault in faults:
        if not isinstance(fault, Fault):
            raise TypeError(f"not a fault: {fault!r} (expected e.g. RenamedColumn(...))")
