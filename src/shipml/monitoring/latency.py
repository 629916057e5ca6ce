"""Latency percentiles: mergeable fixed-bucket histograms, and exact percentiles from samples.

Buckets are Prometheus-style `le` upper bounds in seconds, exponential from 0.1 ms to
60 s with four buckets per doubling (factor 2^(1/4), about 1.19): 78 bounds plus +Inf.
A histogram quantile is therefore within one bucket width (about 19%) of the true one.

Quantiles from a histogram follow Prometheus `histogram_quantile`: rank = q * count,
find the bucket that holds the rank, interpolate linearly between its lower bound (0 for
the first bucket) and its upper bound. Two refinements, since the exact min and max are
kept: the result is clamped to [min, max], and a rank in the +Inf bucket gives the max
(Prometheus answers with the largest finite bound there).

Steps are keyed by name; the end-to-end latency goes under `END_TO_END` ("total").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shipml.errors import MonitoringError

END_TO_END = "total"
DEFAULT_BOUNDS: tuple[float, ...] = tuple(1e-4 * 2 ** (i / 4) for i in range(78))
PERCENTILES: dict[str, float] = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


class LatencySummary(BaseModel):
    """p50/p95/p99 and max of a set of latencies in seconds (None when there are none)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    exact: bool  # True when computed from raw samples, False when from a histogram


class LatencyHistogram(BaseModel):
    """Counts of latencies per fixed bucket, with their sum, min and max; merges exactly."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bounds: list[float] = Field(default_factory=lambda: list(DEFAULT_BOUNDS))
    counts: list[int] = Field(default_factory=lambda: [0] * (len(DEFAULT_BOUNDS) + 1))
    total_seconds: float = 0.0
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _check_layout(self) -> LatencyHistogram:
        bounds = np.asarray(self.bounds, dtype=np.float64)
        if len(bounds) == 0 or not np.all(np.diff(bounds) > 0) or bounds[0] <= 0:
            raise ValueError("latency bounds must be positive and strictly increasing")
        if len(self.counts) != len(bounds) + 1 or any(count < 0 for count in self.counts):
            raise ValueError(
                "a latency histogram needs one non-negative count per bound, plus +Inf"
            )
        if (self.count == 0) != (self.min is None or self.max is None):
            raise ValueError("min and max are given exactly when there are observations")
        return self

    @classmethod
    def from_samples(
        cls, seconds: ArrayLike, bounds: Sequence[float] = DEFAULT_BOUNDS
    ) -> LatencyHistogram:
        """Bucket latency samples given in seconds."""
        samples = _checked_samples(seconds)
        buckets = np.searchsorted(np.asarray(bounds, dtype=np.float64), samples, side="left")
        counts = np.bincount(buckets, minlength=len(bounds) + 1)
        empty = len(samples) == 0
        return cls(
            bounds=list(bounds),
            counts=counts.tolist(),
            total_seconds=float(samples.sum()),
            min=None if empty else float(samples.min()),
            max=None if empty else float(samples.max()),
        )

    @property
    def count(self) -> int:
        """Number of observations."""
        return sum(self.counts)

    def merge(self, other: LatencyHistogram) -> LatencyHistogram:
        """The histogram of both sets of observations (same bounds required)."""
        if other.bounds != self.bounds:
            raise MonitoringError("cannot merge latency histograms with different bucket bounds")
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        return LatencyHistogram(
            bounds=self.bounds,
            counts=[a + b for a, b in zip(self.counts, other.counts, strict=True)],
            total_seconds=self.total_seconds + other.total_seconds,
            min=_least(self.min, other.min),
            max=_greatest(self.max, other.max),
        )

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0 <= q <= 1), interpolated within its bucket; None when empty."""
        if not 0.0 <= q <= 1.0:
            raise MonitoringError(f"quantile must be within [0, 1], got {q}")
        if self.count == 0 or self.min is None or self.max is None:
            return None
        if q == 0.0:
            return self.min
        cumulative = np.cumsum(self.counts)
        rank = q * self.count
        bucket = int(np.searchsorted(cumulative, rank, side="left"))
        if bucket == len(self.bounds):
            return self.max
        lower = self.bounds[bucket - 1] if bucket > 0 else 0.0
        before = int(cumulative[bucket - 1]) if bucket > 0 else 0
        share = (rank - before) / self.counts[bucket]
        estimate = lower + (self.bounds[bucket] - lower) * share
        return float(min(max(estimate, self.min), self.max))

    def summary(self) -> LatencySummary:
        """p50/p95/p99 interpolated from the buckets, and the exact max."""
        quantiles = {name: self.quantile(q) for name, q in PERCENTILES.items()}
        return LatencySummary(count=self.count, max=self.max, exact=False, **quantiles)


class LatencyProfile(BaseModel):
    """Latency histograms per step (and end to end under `END_TO_END`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: dict[str, LatencyHistogram] = Field(default_factory=dict)

    @classmethod
    def from_samples(
        cls, seconds_by_step: Mapping[str, ArrayLike], bounds: Sequence[float] = DEFAULT_BOUNDS
    ) -> LatencyProfile:
        """Bucket the latency samples of each step."""
        return cls(
            steps={
                step: LatencyHistogram.from_samples(samples, bounds)
                for step, samples in seconds_by_step.items()
            }
        )

    def merge(self, other: LatencyProfile) -> LatencyProfile:
        """Both profiles together; a step missing on one side had no observations there."""
        steps = dict(self.steps)
        for step, histogram in other.steps.items():
            steps[step] = steps[step].merge(histogram) if step in steps else histogram
        return LatencyProfile(steps=steps)

    def summaries(self) -> dict[str, LatencySummary]:
        """p50/p95/p99 per step."""
        return {step: histogram.summary() for step, histogram in self.steps.items()}


def summarize_samples(seconds: ArrayLike) -> LatencySummary:
    """Exact p50/p95/p99 (linear interpolation between order statistics) of raw samples."""
    samples = _checked_samples(seconds)
    if len(samples) == 0:
        return LatencySummary(count=0, p50=None, p95=None, p99=None, max=None, exact=True)
    values = np.quantile(samples, list(PERCENTILES.values()))
    quantiles = {name: float(value) for name, value in zip(PERCENTILES, values, strict=True)}
    return LatencySummary(count=len(samples), max=float(samples.max()), exact=True, **quantiles)


def _checked_samples(seconds: ArrayLike) -> np.ndarray:
    samples = np.asarray(seconds, dtype=np.float64)
    if samples.ndim != 1:
        raise MonitoringError(f"latency samples must be one-dimensional, got shape {samples.shape}")
    if not np.all(np.isfinite(samples)) or np.any(samples < 0):
        raise MonitoringError("latency samples must be finite, non-negative seconds")
    return samples


def _least(a: float | None, b: float | None) -> float | None:
    """The smaller of two optional values (None when both are None)."""
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: float | None, b: float | None) -> float | None:
    """The larger of two optional values (None when both are None)."""
    return b if a is None else a if b is None else max(a, b)
