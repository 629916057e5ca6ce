"""Retraining that closes the loop: alert -> train -> gate -> challenger (or champion) -> notify.

The scheduler calls `retrain_on_alerts` after each tick with the rules of the alerts its
windows raised. `[retraining]` decides (`monitoring.retraining.decide_retraining`): only on
the configured rules, at most once per cool-down, counted from the last train run the
policy started (failed ones included, so a broken training cannot loop). A retraining
leaves the records a manual one does: a train run (trigger "retraining"), an alias move
through the promotion gate (reason "retraining", linked to that run, refused ones too),
and a notice to the alert sinks with the gate's comparison.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipml.alerting import AlertNotice, notify
from shipml.errors import PromotionRefused, ShipmlError
from shipml.monitoring import RetrainDecision, decide_retraining
from shipml.project.project import Project
from shipml.project.promotion import AliasMove, promote
from shipml.project.training import TrainingOutcome, train

log = logging.getLogger(__name__)

RETRAINING = "retraining"  # the trigger of its train runs, and the rule of its notices
_RECENT_RUNS = 1


@dataclass(frozen=True)
class RetrainingOutcome:
    """What the policy decided, and what a retraining produced."""

    decision: RetrainDecision
    training: TrainingOutcome | None = None
    move: AliasMove | None = None
    error: str | None = None


def last_retraining(project: Project) -> datetime | None:
    """When the policy last started a train run (None if never)."""
    runs = project.store.runs(
        limit=_RECENT_RUNS, pipeline=project.name, kind="train", trigger=RETRAINING
    )
    return runs[0].started_at if runs else None


def retrain_on_alerts(
    project: Project, alert_rules: Iterable[str], *, now: datetime | None = None
) -> RetrainingOutcome | None:
    """Retrain if `[retraining]` acts on these alert rules and its cool-down is over.

    None when the project has no `[retraining]` section. Never raises for a failed
    training or a refused gate: both are recorded and notified.
    """
    policy = project.settings.retraining
    if policy is None:
        return None
    now = now or datetime.now(UTC)
    decision = decide_retraining(
        policy, alert_rules, last_retrained_at=last_retraining(project), now=now
    )
    if not decision.retrain:
        if decision.rules:
            log.info("not retraining %s: %s", project.name, decision.reason)
        return RetrainingOutcome(decision)
    log.warning("retraining %s on %s", project.name, decision.reason)
    since = now - policy.since if policy.since is not None else None
    try:
        training = train(project, data=policy.data, since=since, trigger=RETRAINING)
    except ShipmlError as error:
        _notify(project, decision, None, None, f"retraining failed: {error}")
        return RetrainingOutcome(decision, error=str(error))
    try:
        move = promote(
            project,
            training.model.version,
            alias=policy.alias,
            reason="retraining",
            run_id=training.run_id,
            note=f"on {decision.reason}",
        )
    except PromotionRefused as refused:
        move = refused.move
    except ShipmlError as error:
        _notify(project, decision, training, None, f"retrained, not gated: {error}")
        return RetrainingOutcome(decision, training, error=str(error))
    _notify(project, decision, training, move, None)
    return RetrainingOutcome(decision, training, move)


def _notify(
    project: Project,
    decision: RetrainDecision,
    training: TrainingOutcome | None,
    move: AliasMove | None,
    error: str | None,
) -> None:
    """One notice to the alert sinks: what was retrained, the gate's verdict and comparison."""
    details: dict[str, Any] = {"on_alerts": list(decision.rules)}
    if training is not None:
        details.update(version=training.model.version, run_id=training.run_id)
    if move is not None:
        details["move"] = {
            "id": move.record.id,
            "alias": move.record.alias,
            "outcome": move.record.outcome,
            "from_version": move.record.from_version,
            "to_version": move.record.to_version,
        }
        details["gate"] = None if move.verdict is None else move.verdict.model_dump(mode="json")
    notice = AlertNotice(
        pipeline=project.name,
        rule=RETRAINING,
        column=None,
        severity="info" if error is None and move is not None and move.moved else "warning",
        message=error or _message(decision, move),
        run_id=None if training is None else training.run_id,
        opened_at=datetime.now(UTC),
        details=details,
    )
    notify(project.alert_sinks, notice)


def _message(decision: RetrainDecision, move: AliasMove | None) -> str:
    """'retrained on drift.psi: v3 -> challenger; gate passed: roc_auc 0.93 vs 0.92 ...'."""
    if move is None:
        return f"retrained on {decision.reason}"
    record = move.record
    gate = "no gate" if move.verdict is None else f"gate {move.verdict.summary}"
    done = "not set as" if record.outcome == "refused" else "->"
    return f"retrained on {decision.reason}: v{record.to_version} {done} {record.alias}; {gate}"
