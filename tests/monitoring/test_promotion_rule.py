"""The promotion gate's rule and the retraining policy's decision, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shipml.monitoring import (
    GateVerdict,
    PromotionConfig,
    RetrainingConfig,
    decide_retraining,
    judge,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def verdict(
    config: PromotionConfig, candidate: dict[str, float], champion: dict[str, float]
) -> GateVerdict:
    """The gate on a binary model's metrics, candidate v2 against champion v1."""
    return judge(
        config,
        task="binary",
        candidate=candidate,
        champion=champion,
        candidate_version="2",
        champion_version="1",
        evaluated_on="holdout of v2 (400 rows)",
    )


def test_a_drop_within_max_drop_passes_and_beyond_it_is_refused() -> None:
    config = PromotionConfig(max_drop=0.02)

    assert verdict(config, {"roc_auc": 0.89}, {"roc_auc": 0.90}).passed
    refused = verdict(config, {"roc_auc": 0.85}, {"roc_auc": 0.90})
    assert not refused.passed and refused.drop == pytest.approx(0.05)
    assert refused.summary.startswith("refused: roc_auc dropped by 0.05")


def test_a_binary_model_without_probabilities_is_gated_on_f1() -> None:
    decisions_only = {"accuracy": 0.64, "f1": 0.65}  # no roc_auc: it predicts classes

    passed = verdict(PromotionConfig(), decisions_only, {"accuracy": 0.64, "f1": 0.65})
    refused = verdict(PromotionConfig(), {**decisions_only, "f1": 0.60}, decisions_only)

    assert passed.passed and passed.summary.startswith("passed: f1")
    assert not refused.passed and refused.summary.startswith("refused: f1 dropped by 0.05")


def test_for_an_error_metric_a_rise_is_the_drop() -> None:
    config = PromotionConfig(metric="log_loss", max_drop=0.0)

    assert verdict(config, {"log_loss": 0.20}, {"log_loss": 0.25}).passed
    refused = verdict(config, {"log_loss": 0.30}, {"log_loss": 0.25})
    assert "log_loss rose by 0.05" in refused.reasons[0]


def test_floors_and_ceilings_hold_on_the_candidate_alone() -> None:
    config = PromotionConfig.model_validate({"max_drop": 1, "min_recall": 0.8, "max_brier": 0.1})

    refused = verdict(config, {"roc_auc": 0.9, "recall": 0.7, "brier": 0.2}, {"roc_auc": 0.9})

    assert refused.reasons == [
        "brier 0.2 is above [promotion] max_brier 0.1",
        "recall 0.7 is below [promotion] min_recall 0.8",
    ]


def test_without_a_champion_only_the_floors_apply() -> None:
    first = judge(
        PromotionConfig(),
        task="regression",
        candidate={"rmse": 3.0},
        champion=None,
        candidate_version="1",
        champion_version=None,
        evaluated_on="holdout of v1",
    )
    assert first.passed and first.metric == "rmse" and first.drop is None


def test_an_unknown_promotion_key_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="unknown key 'treshold'"):
        PromotionConfig.model_validate({"treshold": 0.1})


def test_retraining_acts_on_matching_alerts_outside_the_cool_down() -> None:
    config = RetrainingConfig(on_alerts=["drift"], cooldown=timedelta(hours=1))

    assert decide_retraining(config, ["drift.psi"], last_retrained_at=None, now=NOW).retrain
    assert not decide_retraining(config, ["latency.p99"], last_retrained_at=None, now=NOW).retrain
    cooling = decide_retraining(
        config, ["drift.ks"], last_retrained_at=NOW - timedelta(minutes=30), now=NOW
    )
    assert not cooling.retrain and "in cool-down" in cooling.reason
    later = decide_retraining(
        config, ["drift.ks"], last_retrained_at=NOW - timedelta(hours=2), now=NOW
    )
    assert later.retrain and later.rules == ("drift.ks",)
