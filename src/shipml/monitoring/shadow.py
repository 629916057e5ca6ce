"""A challenger scored in shadow beside the champion: how often they agree, both prediction
distributions on the same bins, and the challenger's latency; mergeable like every profile.

Agreement per record: a binary classifier's probabilities agree when both models take the
same decision (each at its own threshold); other numbers agree within an absolute
`tolerance`; anything else agrees when equal (two missing values agree). Records the
challenger was not given (its queue was full) are counted as `dropped`; records it rejected
or failed on as `failed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from shipml.monitoring.latency import LatencyProfile
from shipml.monitoring.profiles import Profile, profile
from shipml.monitoring.spec import ProfileSpec


class ShadowProfile(BaseModel):
    """One challenger version's shadow scoring over a window of the champion's traffic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    challenger_name: str
    challenger_version: str
    records: int = 0  # scored by both models
    agreed: int = 0
    dropped: int = 0  # not scored: the shadow queue was full
    failed: int = 0  # the challenger rejected them or a step raised
    champion: Profile | None = None  # the prediction column, on the same spec for both
    challenger: Profile | None = None
    latency: LatencyProfile = LatencyProfile()  # the challenger's, per shadow batch

    @property
    def agreement_rate(self) -> float | None:
        """Share of the records scored by both on which they agreed (None: none scored)."""
        return self.agreed / self.records if self.records else None

    def merge(self, other: ShadowProfile) -> ShadowProfile:
        """Both together (the same challenger version, profiled on the same spec)."""
        return ShadowProfile(
            challenger_name=self.challenger_name,
            challenger_version=self.challenger_version,
            records=self.records + other.records,
            agreed=self.agreed + other.agreed,
            dropped=self.dropped + other.dropped,
            failed=self.failed + other.failed,
            champion=_merged(self.champion, other.champion),
            challenger=_merged(self.challenger, other.challenger),
            latency=self.latency.merge(other.latency),
        )


class ShadowProfiles(BaseModel):
    """A window's shadow profiles, one per challenger version seen in it (stored as JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    challengers: list[ShadowProfile]


def compare_predictions(
    champion: Sequence[Any],
    challenger: Sequence[Any],
    *,
    thresholds: tuple[float, float] | None = None,
    tolerance: float = 0.0,
) -> np.ndarray:
    """Whether each pair of predictions agrees (see the module docstring).

    `thresholds` (champion's, challenger's): the values are a binary classifier's positive
    probabilities, compared by decision.
    """
    left = pd.Series(list(champion), dtype=object)
    right = pd.Series(list(challenger), dtype=object)
    numbers = pd.to_numeric(left, errors="coerce"), pd.to_numeric(right, errors="coerce")
    numeric = numbers[0].notna() & numbers[1].notna() & _not_bool(left) & _not_bool(right)
    agreed = np.array((left == right) | (left.isna() & right.isna()), dtype=bool)
    if numeric.any():
        a = numbers[0][numeric].to_numpy(np.float64)
        b = numbers[1][numeric].to_numpy(np.float64)
        if thresholds is not None:
            close = (a >= thresholds[0]) == (b >= thresholds[1])
        else:
            close = np.abs(a - b) <= tolerance
        agreed[numeric.to_numpy()] = close
    return agreed


def shadow_profile(
    challenger_name: str,
    challenger_version: str,
    *,
    column: str,
    champion: Sequence[Any],
    challenger: Sequence[Any],
    agreed: np.ndarray,
    spec: ProfileSpec | None,
    seconds_by_step: dict[str, list[float]],
    failed: int = 0,
) -> ShadowProfile:
    """The profile of one shadow batch: predictions of both models for the same records."""
    profiles: tuple[Profile | None, Profile | None] = (None, None)
    if spec is not None and column in spec.columns:
        own = spec.select([column])
        profiles = (
            profile(pd.DataFrame({column: list(champion)}), own),
            profile(pd.DataFrame({column: list(challenger)}), own),
        )
    return ShadowProfile(
        challenger_name=challenger_name,
        challenger_version=challenger_version,
        records=len(agreed),
        agreed=int(np.count_nonzero(agreed)),
        failed=failed,
        champion=profiles[0],
        challenger=profiles[1],
        latency=LatencyProfile.from_samples(seconds_by_step),
    )


def _not_bool(values: pd.Series) -> pd.Series:
    return ~values.map(lambda value: isinstance(value, bool | np.bool_)).astype(bool)


def _merged(left: Profile | None, right: Profile | None) -> Profile | None:
    if left is None:
        return right
    if right is None:
        return left
    return left.merge(right)
