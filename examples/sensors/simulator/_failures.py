"""When each machine fails: at most one failure per machine in each block of 8 hours.

A failure is foreshadowed by a degradation of 2 to 6 hours and followed by a repair of 30 to
90 minutes. Failures fall at least `_MIN_OFFSET` minutes into their block, so two failures are
always more than a repair plus an hour apart: the hour before a failure is never under repair.
Blocks are staggered per machine so that failures show no pattern in the time of day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._random import uniform, uniform_per_period

_BLOCK_MINUTES = 480
_MIN_OFFSET = 150
_DEGRADATION_MINUTES = (120.0, 360.0)
_REPAIR_MINUTES = (30, 90)

_PHASE, _OCCURS, _OFFSET, _DEGRADATION, _REPAIR = 101, 102, 103, 104, 105


@dataclass(frozen=True)
class Timeline:
    """Per row: where it stands between the previous failure and the next one."""

    minutes_to_failure: np.ndarray  # inf when no failure is within reach
    degradation_minutes: np.ndarray  # how long ahead the next failure shows in the readings
    minutes_since_failure: np.ndarray  # inf when no failure is within reach
    repair_minutes: np.ndarray  # how long the previous failure keeps the machine in maintenance

    def severity(self) -> np.ndarray:
        """Degradation from 0 (healthy) rising to 1 at the moment of failure."""
        with np.errstate(invalid="ignore", divide="ignore"):
            progress = 1.0 - self.minutes_to_failure / self.degradation_minutes
        return np.clip(np.nan_to_num(progress, nan=0.0, neginf=0.0), 0.0, 1.0)

    def under_repair(self) -> np.ndarray:
        """True while the machine is being repaired after a failure."""
        return self.minutes_since_failure < self.repair_minutes


@dataclass(frozen=True)
class _BlockFailure:
    time: np.ndarray  # minute of the failure, NaN when the block has none
    degradation: np.ndarray
    repair: np.ndarray


def timeline(
    seed: int, machine: np.ndarray, minute: np.ndarray, failure_probability: float
) -> Timeline:
    """The failure timeline at each (machine, minute since the epoch) row."""
    machines = int(machine.max(initial=0)) + 1
    phases = np.floor(uniform(seed, _PHASE, np.arange(machines), 0) * _BLOCK_MINUTES)
    phase = phases[machine]
    block = (minute + phase).astype(np.int64) // _BLOCK_MINUTES
    previous, current, following = (
        _block_failure(seed, machine, block + step, phase, failure_probability)
        for step in (-1, 0, 1)
    )
    ahead = current.time > minute
    behind = current.time <= minute
    next_time = np.where(ahead, current.time, following.time)
    previous_time = np.where(behind, current.time, previous.time)
    return Timeline(
        minutes_to_failure=np.nan_to_num(next_time - minute, nan=np.inf),
        degradation_minutes=np.where(ahead, current.degradation, following.degradation),
        minutes_since_failure=np.nan_to_num(minute - previous_time, nan=np.inf),
        repair_minutes=np.where(behind, current.repair, previous.repair),
    )


def _block_failure(
    seed: int, machine: np.ndarray, block: np.ndarray, phase: np.ndarray, probability: float
) -> _BlockFailure:
    occurs = uniform_per_period(seed, _OCCURS, machine, block) < probability
    span = _BLOCK_MINUTES - _MIN_OFFSET
    offset = _MIN_OFFSET + np.floor(uniform_per_period(seed, _OFFSET, machine, block) * span)
    low, high = _DEGRADATION_MINUTES
    shortest, longest = _REPAIR_MINUTES
    return _BlockFailure(
        time=np.where(occurs, block * _BLOCK_MINUTES - phase + offset, np.nan),
        degradation=low + uniform_per_period(seed, _DEGRADATION, machine, block) * (high - low),
        repair=shortest
        + np.floor(uniform_per_period(seed, _REPAIR, machine, block) * (longest - shortest)),
    )
