"""Alerts: deduplication by (pipeline, rule, column), closing, listing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from shipml.store import AlertNotFound, RunStore


def test_a_repeated_alert_refreshes_the_open_one(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch")
    first = store.open_alert(
        "weather", "psi", "PSI 0.31 > 0.2", column="temperature_c", value=0.31, threshold=0.2
    )
    again = store.open_alert(
        "weather",
        "psi",
        "PSI 0.45 > 0.2",
        column="temperature_c",
        value=0.45,
        threshold=0.2,
        severity="critical",
        run_id=run_id,
        window_start=datetime(2024, 3, 1, tzinfo=UTC),
    )

    assert first.is_new and not again.is_new
    assert again.alert.id == first.alert.id
    assert again.alert.occurrences == 2
    assert again.alert.value == 0.45 and again.alert.message == "PSI 0.45 > 0.2"
    assert again.alert.severity == "critical" and again.alert.run_id == run_id
    assert again.alert.opened_at == first.alert.opened_at
    assert again.alert.last_seen_at > first.alert.last_seen_at
    assert store.run(run_id).alerts == (again.alert,)


def test_alerts_differ_by_column_and_rule(store: RunStore) -> None:
    outcomes = [
        store.open_alert("weather", "psi", "m", column="temperature_c"),
        store.open_alert("weather", "psi", "m", column="vibration_mm_s"),
        store.open_alert("weather", "prediction_shift", "m"),
        store.open_alert("weather", "prediction_shift", "m"),
        store.open_alert("traffic", "prediction_shift", "m"),
    ]
    assert [o.is_new for o in outcomes] == [True, True, True, False, True]
    assert len(store.alerts(status="open")) == 4


def test_a_closed_alert_is_reopened_as_a_new_one(store: RunStore) -> None:
    first = store.open_alert("weather", "p95_latency", "p95 310 ms > 250 ms", value=310.0)
    closed = store.close_alert(first.alert.id)
    reopened = store.open_alert("weather", "p95_latency", "p95 400 ms > 250 ms", value=400.0)

    assert closed.status == "closed" and closed.closed_at is not None
    assert reopened.is_new and reopened.alert.id != first.alert.id
    assert [a.id for a in store.alerts(status="closed")] == [first.alert.id]
    assert [a.id for a in store.alerts(status="open")] == [reopened.alert.id]
    assert [a.id for a in store.alerts()] == [reopened.alert.id, first.alert.id]


def test_closing_by_key_closes_only_the_open_alert(store: RunStore) -> None:
    store.open_alert("weather", "psi", "m", column="temperature_c")
    store.open_alert("weather", "psi", "m", column="mode")

    closed = store.close_open_alert("weather", "psi", column="temperature_c")

    assert closed is not None and closed.column == "temperature_c"
    assert store.close_open_alert("weather", "psi", column="temperature_c") is None
    assert [a.column for a in store.alerts(status="open")] == ["mode"]
    assert store.close_alert(closed.id) == closed  # closing twice changes nothing


def test_alerts_are_listed_most_recently_seen_first(store: RunStore) -> None:
    store.open_alert("weather", "a", "m")
    store.open_alert("traffic", "b", "m")
    store.open_alert("weather", "a", "m")

    assert [a.rule for a in store.alerts()] == ["a", "b"]
    assert [a.rule for a in store.alerts(limit=1)] == ["a"]
    assert [a.pipeline for a in store.alerts(pipeline="traffic")] == ["traffic"]


def test_concurrent_raisers_share_one_open_alert(store: RunStore) -> None:
    def raise_alert(_: int) -> bool:
        return store.open_alert("weather", "psi", "m", column="temperature_c").is_new

    with ThreadPoolExecutor(max_workers=4) as pool:
        new_flags = list(pool.map(raise_alert, range(24)))

    (alert,) = store.alerts(status="open")
    assert new_flags.count(True) == 1
    assert alert.occurrences == 24


def test_bad_alerts_are_refused(store: RunStore) -> None:
    with pytest.raises(ValueError, match="unknown severity 'fatal'"):
        store.open_alert("weather", "psi", "m", severity="fatal")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown alert status 'gone'"):
        store.alerts(status="gone")
    with pytest.raises(AlertNotFound, match="no alert with id 42"):
        store.close_alert(42)
    assert store.alerts() == []
