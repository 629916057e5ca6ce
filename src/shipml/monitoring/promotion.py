"""The promotion gate's rule: compare a candidate's metrics with the champion's on the same data.

A candidate passes when the gated metric is no worse than the champion's by more than
`max_drop` (in the metric's own units; "worse" is lower for scores like `roc_auc`, higher
for errors like `rmse`), and every floor (`min_<metric>`) and ceiling (`max_<metric>`) holds.
Pure computation: the caller scores both models and records the verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

# Metrics where a lower value is the better model (errors and losses).
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "rmse", "mae", "mape"})
# The default gated metric by task, in order of preference: the first the candidate has
# (a binary model that predicts classes without probabilities has no roc_auc, but an f1).
DEFAULT_METRICS = {
    "binary": ("roc_auc", "f1"),
    "multiclass": ("f1_macro", "accuracy"),
    "regression": ("rmse",),
}
_BOUND_PREFIXES = ("min_", "max_")


class PromotionConfig(BaseModel):
    """How a candidate is judged against the champion; `min_<metric>`/`max_<metric>` keys
    are floors and ceilings on the candidate's own value (e.g. `min_recall = 0.8`)."""

    model_config = ConfigDict(extra="allow")

    metric: str | None = None  # default by task: roc_auc (else f1), f1_macro, rmse
    max_drop: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _bounds_are_numbers(self) -> PromotionConfig:
        for key, value in (self.model_extra or {}).items():
            if not key.startswith(_BOUND_PREFIXES) or len(key) <= 4:
                raise ValueError(
                    f"unknown key {key!r}: expected metric, max_drop, min_<metric> or "
                    "max_<metric> (e.g. min_recall = 0.8)"
                )
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key} must be a number, got {value!r}")
        return self

    @property
    def bounds(self) -> dict[str, tuple[str, float]]:
        """`min_recall = 0.8` as {"recall": ("min", 0.8)}; ceilings likewise with "max"."""
        return {key[4:]: (key[:3], float(value)) for key, value in (self.model_extra or {}).items()}

    def metric_for(self, task: str | None, available: Iterable[str] = ()) -> str:
        """The gated metric: the configured one, else the task's first default available."""
        if self.metric:
            return self.metric
        preferred = DEFAULT_METRICS.get(task or "", ("rmse",))
        found = set(available)
        return next((name for name in preferred if name in found), preferred[0])


class MetricRow(BaseModel):
    """One metric of both models, as the comparison table shows it."""

    metric: str
    candidate: float | None
    champion: float | None
    change: float | None  # candidate - champion
    lower_is_better: bool


class GateVerdict(BaseModel):
    """Whether the candidate may replace the champion, why, and the full comparison."""

    passed: bool
    metric: str
    max_drop: float
    drop: float | None  # how much worse the candidate is on `metric` (negative: better)
    reasons: list[str]  # why it was refused (empty when passed)
    rows: list[MetricRow]
    candidate_version: str
    champion_version: str | None
    evaluated_on: str  # e.g. "holdout of v4 (400 rows)"

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented use on a property
    @property
    def summary(self) -> str:
        """One line: 'passed: roc_auc 0.91 vs 0.90' or 'refused: roc_auc dropped by ...'."""
        if self.passed:
            return f"passed: {self._headline()}"
        return "refused: " + "; ".join(self.reasons)

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented use on a property
    @property
    def headline(self) -> str:
        """The gated metric of both models: 'roc_auc 0.056 vs 0.944 (champion)'."""
        return self._headline()

    def _headline(self) -> str:
        row = next((r for r in self.rows if r.metric == self.metric), None)
        if row is None or row.candidate is None:
            return f"{self.metric} not measured"
        if row.champion is None:
            return f"{self.metric} {row.candidate:.4g} (no champion to compare with)"
        return f"{self.metric} {row.candidate:.4g} vs {row.champion:.4g} (champion)"


def judge(
    config: PromotionConfig,
    *,
    task: str | None,
    candidate: Mapping[str, float],
    champion: Mapping[str, float] | None,
    candidate_version: str,
    champion_version: str | None,
    evaluated_on: str,
) -> GateVerdict:
    """Apply the gate to two models' metrics measured on the same rows."""
    metric = config.metric_for(task, candidate)
    reasons: list[str] = []
    lower = metric in LOWER_IS_BETTER
    mine = _finite(candidate.get(metric))
    theirs = _finite(champion.get(metric)) if champion is not None else None
    drop: float | None = None
    if mine is None:
        reasons.append(f"the candidate has no {metric} on {evaluated_on}")
    elif theirs is not None:
        drop = (mine - theirs) if lower else (theirs - mine)
        if drop > config.max_drop + 1e-12:
            worse = "rose" if lower else "dropped"
            reasons.append(
                f"{metric} {worse} by {drop:.4g} ({theirs:.4g} -> {mine:.4g}), more than "
                f"[promotion] max_drop {config.max_drop:g}"
            )
    for name, (kind, bound) in sorted(config.bounds.items()):
        value = _finite(candidate.get(name))
        if value is None:
            reasons.append(f"the candidate has no {name} to hold to {kind}_{name} {bound:g}")
        elif (kind == "min" and value < bound) or (kind == "max" and value > bound):
            reasons.append(
                f"{name} {value:.4g} is {'below' if kind == 'min' else 'above'} "
                f"[promotion] {kind}_{name} {bound:g}"
            )
    return GateVerdict(
        passed=not reasons,
        metric=metric,
        max_drop=config.max_drop,
        drop=drop,
        reasons=reasons,
        rows=_rows(candidate, champion or {}),
        candidate_version=candidate_version,
        champion_version=champion_version,
        evaluated_on=evaluated_on,
    )


def _rows(candidate: Mapping[str, float], champion: Mapping[str, float]) -> list[MetricRow]:
    rows = []
    for name in sorted(set(candidate) | set(champion)):
        mine, theirs = _finite(candidate.get(name)), _finite(champion.get(name))
        change = None if mine is None or theirs is None else mine - theirs
        rows.append(
            MetricRow(
                metric=name,
                candidate=mine,
                champion=theirs,
                change=change,
                lower_is_better=name in LOWER_IS_BETTER,
            )
        )
    return rows


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
