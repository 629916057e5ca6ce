"""`Moments`: count, mean, sum of squared deviations, min and max, merged exactly for counts.

Merging uses Chan et al.'s pairwise update, which stays accurate where a plain
sum / sum-of-squares would cancel catastrophically (large means, small spreads).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator


class Moments(BaseModel):
    """Summary moments of the non-null values of a column (min/max are None when empty)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int = 0
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _check_consistency(self) -> Moments:
        if self.count < 0 or self.m2 < 0:
            raise ValueError("count and m2 must not be negative")
        if (self.count == 0) != (self.min is None or self.max is None):
            raise ValueError("min and max are given exactly when count > 0")
        return self

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        """Moments of a 1-d array of finite numbers."""
        if len(values) == 0:
            return cls()
        mean = float(values.mean())
        deviations = values - mean
        return cls(
            count=len(values),
            mean=mean,
            m2=float(np.dot(deviations, deviations)),
            min=float(values.min()),
            max=float(values.max()),
        )

    @property
    def variance(self) -> float | None:
        """Population variance (ddof=0); None when there are no values."""
        return self.m2 / self.count if self.count else None

    @property
    def std(self) -> float | None:
        """Population standard deviation (ddof=0); None when there are no values."""
        variance = self.variance
        return None if variance is None else float(np.sqrt(variance))

    def merge(self, other: Moments) -> Moments:
        """The moments of both samples together."""
        if other.count == 0:
            return self
        if self.count == 0:
            return other
        count = self.count + other.count
        delta = other.mean - self.mean
        return Moments(
            count=count,
            mean=self.mean + delta * other.count / count,
            m2=self.m2 + other.m2 + delta * delta * self.count * other.count / count,
            min=_least(self.min, other.min),
            max=_greatest(self.max, other.max),
        )


def _least(a: float | None, b: float | None) -> float | None:
    """The smaller of two optional values (None when both are None)."""
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: float | None, b: float | None) -> float | None:
    """The larger of two optional values (None when both are None)."""
    return b if a is None else a if b is None else max(a, b)
