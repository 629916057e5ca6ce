"""The retraining policy's rule: which alerts call for a retraining, and not too often.

Pure decision: the caller supplies the rules of the alerts a scheduled tick raised and when
the last automatic retraining started; `decide` says whether to retrain now, and why not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

RetrainAlias = Literal["challenger", "champion"]


class RetrainingConfig(BaseModel):
    """On which alert rules to retrain (a rule or its prefix: "drift" matches "drift.psi"),
    at most once per `cooldown`, and which alias the gated result gets."""

    on_alerts: list[str] = Field(default_factory=lambda: ["drift", "prediction_shift"])
    cooldown: timedelta = timedelta(days=1)
    alias: RetrainAlias = "challenger"  # "champion" promotes a candidate that passes the gate


@dataclass(frozen=True)
class RetrainDecision:
    """Whether to retrain now, on which alert rules, or why not."""

    retrain: bool
    rules: tuple[str, ...]
    reason: str


def matches(pattern: str, rule: str) -> bool:
    """Whether `rule` ("drift.psi") is `pattern` or under it ("drift")."""
    return rule == pattern or rule.startswith(f"{pattern}.")


def decide_retraining(
    config: RetrainingConfig,
    alert_rules: Iterable[str],
    *,
    last_retrained_at: datetime | None,
    now: datetime,
) -> RetrainDecision:
    """Retrain when an alert matches `on_alerts` and the cool-down since the last one is over."""
    rules = tuple(sorted({r for r in alert_rules if any(matches(p, r) for p in config.on_alerts)}))
    if not rules:
        return RetrainDecision(False, (), "no alert the retraining policy acts on")
    if last_retrained_at is not None and now - last_retrained_at < config.cooldown:
        ready = last_retrained_at + config.cooldown
        return RetrainDecision(
            False,
            rules,
            f"in cool-down: last retraining started {last_retrained_at.isoformat()}, "
            f"next possible at {ready.isoformat()} ([retraining] cooldown {config.cooldown})",
        )
    return RetrainDecision(True, rules, f"alerts {', '.join(rules)}")
