"""Raising alerts window after window: one notification per episode, closed when it clears."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _http_server import Reply, http_server
from shipml.alerting.sinks import AlertNotice, WebhookSink
from shipml.alerting.state import (
    checks_of,
    has_critical,
    raise_alerts,
    raise_window_alerts,
)
from shipml.monitoring import (
    END_TO_END,
    CandidateAlert,
    LatencyProfile,
    MonitoringBaseline,
    MonitoringConfig,
    evaluate_window,
    profile,
)
from shipml.store import RunStore

START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
DRIFT = CandidateAlert(
    rule="drift.psi",
    column="temperature_c",
    value=0.41,
    threshold=0.2,
    severity="warning",
    message="psi drift on 'temperature_c': 0.410 > 0.2",
)
SHIFT = CandidateAlert(
    rule="prediction_shift",
    column="failure_probability",
    value=0.3,
    threshold=0.2,
    severity="critical",
    message="mean of 'failure_probability' is 0.3",
)


class Inbox:
    """A sink that keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[AlertNotice] = []

    def send(self, notice: AlertNotice) -> None:
        self.received.append(notice)

    def flush(self, timeout: float) -> bool:
        return True


class BrokenSink(Inbox):
    """A sink whose delivery raises."""

    def send(self, notice: AlertNotice) -> None:
        raise RuntimeError("disk full")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore(f"sqlite:///{tmp_path / 'shipml.db'}") as opened:
        yield opened


def window(n: int) -> datetime:
    return START + timedelta(minutes=15 * n)


def test_a_lasting_condition_is_one_alert_and_one_notification(store: RunStore) -> None:
    inbox = Inbox()

    for n in range(3):
        raise_alerts(store, "toy", [DRIFT], run_id=None, window_start=window(n), sinks=[inbox])

    (alert,) = store.alerts(pipeline="toy")
    assert alert.status == "open" and alert.occurrences == 3
    assert alert.window_start == window(2)
    assert [notice.rule for notice in inbox.received] == ["drift.psi"]
    assert inbox.received[0].alert_id == alert.id


def test_a_cleared_condition_closes_its_alert_and_a_recurrence_notifies_again(
    store: RunStore,
) -> None:
    inbox = Inbox()
    checked = {("drift.psi", "temperature_c"), ("prediction_shift", "failure_probability")}

    raise_alerts(store, "toy", [DRIFT, SHIFT], run_id=None, window_start=window(0), sinks=[inbox])
    raise_alerts(
        store, "toy", [SHIFT], run_id=None, window_start=window(1), sinks=[inbox], checked=checked
    )
    raise_alerts(store, "toy", [DRIFT, SHIFT], run_id=None, window_start=window(2), sinks=[inbox])

    drift_alerts = [a for a in store.alerts(pipeline="toy") if a.rule == "drift.psi"]
    assert sorted(a.status for a in drift_alerts) == ["closed", "open"]
    (shift_alert,) = [a for a in store.alerts(pipeline="toy") if a.rule == "prediction_shift"]
    assert shift_alert.occurrences == 3
    assert [n.rule for n in inbox.received] == ["drift.psi", "prediction_shift", "drift.psi"]


def test_an_alert_whose_check_did_not_run_stays_open(store: RunStore) -> None:
    raise_alerts(store, "toy", [DRIFT], run_id=None, window_start=window(0), sinks=[])

    latency_only = {("latency.p99", END_TO_END)}
    raise_alerts(
        store, "toy", [], run_id=None, window_start=window(1), sinks=[], checked=latency_only
    )

    assert [a.status for a in store.alerts(pipeline="toy")] == ["open"]


def test_other_pipelines_alerts_are_left_alone(store: RunStore) -> None:
    raise_alerts(store, "other", [DRIFT], run_id=None, window_start=window(0), sinks=[])

    raise_alerts(store, "toy", [], run_id=None, window_start=window(0), sinks=[])

    assert [a.status for a in store.alerts(pipeline="other")] == ["open"]


def test_a_critical_alert_is_reported_for_fail_loudly(store: RunStore) -> None:
    warning_only = raise_alerts(store, "toy", [DRIFT], run_id=None, window_start=None, sinks=[])
    with_shift = raise_alerts(
        store, "toy", [DRIFT, SHIFT], run_id=None, window_start=None, sinks=[]
    )

    assert not has_critical(warning_only)
    assert has_critical(with_shift)


def test_a_broken_sink_does_not_stop_the_others(
    store: RunStore, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox()

    with caplog.at_level(logging.ERROR):
        outcomes = raise_alerts(
            store, "toy", [SHIFT], run_id=None, window_start=None, sinks=[BrokenSink(), inbox]
        )

    assert [o.is_new for o in outcomes] == [True]
    assert len(inbox.received) == 1
    assert "alert sink" in caplog.text and "disk full" in caplog.text


def _scored(rng: np.random.Generator, rows: int, heat: float = 0.0) -> pd.DataFrame:
    temperature = rng.normal(60 + heat, 5, rows)
    return pd.DataFrame(
        {
            "temperature_c": temperature,
            "failure_probability": 1 / (1 + np.exp(-(temperature - 70) / 4)),
        }
    )


@pytest.fixture(scope="module")
def baseline() -> MonitoringBaseline:
    rng = np.random.default_rng(5)
    training, holdout = _scored(rng, 20_000), _scored(rng, 20_000)
    return MonitoringBaseline.from_training(
        training[["temperature_c"]], holdout[["failure_probability"]], "failure_probability"
    )


def test_evaluated_windows_open_then_close_their_alerts(
    store: RunStore, baseline: MonitoringBaseline
) -> None:
    rng = np.random.default_rng(6)
    config = MonitoringConfig(latency_p99_seconds=0.1)
    fast = LatencyProfile.from_samples({END_TO_END: rng.uniform(0.01, 0.02, 900)})
    hot = evaluate_window(baseline, profile(_scored(rng, 900, heat=5), baseline.spec), fast, config)
    normal = evaluate_window(baseline, profile(_scored(rng, 900), baseline.spec), fast, config)

    opened = raise_window_alerts(store, "toy", hot, run_id=None, window_start=window(0), sinks=[])
    raise_window_alerts(store, "toy", normal, run_id=None, window_start=window(1), sinks=[])

    assert {(o.alert.rule, o.alert.column) for o in opened} == {
        ("prediction_shift", "failure_probability"),
        ("drift.psi", "temperature_c"),
        ("drift.psi", "failure_probability"),
    }
    assert store.alerts(status="open", pipeline="toy") == []
    assert ("latency.p99", END_TO_END) in checks_of(normal)
    assert ("drift.null_rate", "temperature_c") in checks_of(normal)


def test_new_alerts_reach_a_real_webhook_once(store: RunStore) -> None:
    with http_server(Reply(200)) as server:
        sink = WebhookSink(server.url, timeout_seconds=2)
        for n in range(3):
            raise_alerts(store, "toy", [SHIFT], run_id=None, window_start=window(n), sinks=[sink])
        assert sink.flush(timeout=5)

    ((_, _, body),) = server.requests
    assert json.loads(body)["rule"] == "prediction_shift"
