"""Counter-based randomness: every draw is a pure function of (seed, stream, machine, counter).

Nothing depends on how many values were drawn before, so a window of data is the same whether
it is generated alone or as part of a longer range. Each (seed, stream, machine) triple gets its
own SplitMix64 sequence, and a draw is that sequence's value at position `counter` (a minute, an
hour or a block number).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def uniform(seed: int, stream: int, machine: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """Uniform values in the open interval (0, 1), one per (machine, counter) pair."""
    machine_array = np.asarray(machine, dtype=np.int64)
    counter_array = np.asarray(counter, dtype=np.int64)
    keys = _sequence_keys(seed, stream, int(machine_array.max(initial=0)) + 1)
    with np.errstate(over="ignore"):
        state = _mix(keys[machine_array] + counter_array.astype(np.uint64) * _GOLDEN_GAMMA)
    return (state >> np.uint64(11)).astype(np.float64) * 2.0**-53 + 2.0**-54


def uniform_per_period(
    seed: int, stream: int, machine: np.ndarray, counter: np.ndarray
) -> np.ndarray:
    """The same values as `uniform`, drawn once per distinct (machine, counter) pair.

    Much faster when counters repeat across many rows, as hours and blocks do for minutes.
    """
    machine_array = np.asarray(machine, dtype=np.int64)
    counter_array = np.asarray(counter, dtype=np.int64)
    if counter_array.size == 0:
        return np.empty(counter_array.shape)
    low = int(counter_array.min())
    periods = np.arange(low, int(counter_array.max()) + 1)
    fleet = np.arange(int(machine_array.max(initial=0)) + 1)
    grid = uniform(seed, stream, fleet[:, None], periods[None, :])
    return grid[machine_array, counter_array - low]


def normal(seed: int, stream: int, machine: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """Standard normal values, one per (machine, counter) pair."""
    return ndtri(uniform(seed, stream, machine, counter))


def _sequence_keys(seed: int, stream: int, machines: int) -> np.ndarray:
    """The starting state of the sequence of each machine 0..machines-1."""
    with np.errstate(over="ignore"):
        state = np.full(machines, seed, dtype=np.uint64)
        for part in (np.full(machines, stream), np.arange(machines)):
            state = _mix(state * _GOLDEN_GAMMA + part.astype(np.uint64))
    return state


def _mix(state: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of 64-bit integers that scrambles every bit."""
    state = (state ^ (state >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    state = (state ^ (state >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state ^ (state >> np.uint64(31))
