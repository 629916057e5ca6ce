"""Monitoring profiles per window and training baselines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from shipml.store import RunNotFound, RunStore

START = datetime(2024, 3, 1, tzinfo=UTC)


def _window(hour: int) -> dict[str, datetime]:
    return {
        "window_start": START + timedelta(hours=hour),
        "window_end": START + timedelta(hours=hour + 1),
    }


def test_window_profiles_come_back_in_window_order(store: RunStore) -> None:
    for hour in (2, 0, 1):
        store.save_profile("weather", "batch", "features", {"hour": hour}, **_window(hour))
    store.save_profile("weather", "batch", "predictions", {"hour": 9}, **_window(9))
    store.save_profile("weather", "online", "features", {"hour": 8}, **_window(8))

    profiles = store.profiles("weather", "batch", "features")

    assert [p.payload["hour"] for p in profiles] == [0, 1, 2]
    assert profiles[0].window_start == START and profiles[0].window_end == _window(0)["window_end"]


def test_since_and_limit_select_recent_windows(store: RunStore) -> None:
    for hour in range(5):
        store.save_profile("weather", "online", "latency", {"hour": hour}, **_window(hour))

    since = store.profiles("weather", "online", "latency", since=START + timedelta(hours=3))
    newest = store.profiles("weather", "online", "latency", limit=2)

    assert [p.payload["hour"] for p in since] == [3, 4]
    assert [p.payload["hour"] for p in newest] == [3, 4]


def test_profile_payloads_are_stored_as_json(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch", window_start=START)
    payload = {
        "columns": {"temperature_c": {"count": np.int64(10), "nulls": 0, "mean": np.nan}},
        "edges": np.array([0.0, 0.5, 1.0]),
    }

    saved = store.save_profile("weather", "batch", "features", payload, run_id=run_id)

    expected = {
        "columns": {"temperature_c": {"count": 10, "nulls": 0, "mean": None}},
        "edges": [0.0, 0.5, 1.0],
    }
    assert saved.payload == expected and saved.run_id == run_id
    assert store.profiles("weather", "batch", "features")[0].payload == expected


def test_the_latest_baseline_of_a_model_is_found(store: RunStore) -> None:
    for version in ("1", "2"):
        store.save_profile(
            "weather",
            "baseline",
            "predictions",
            {"version": version},
            model_name="weather-model",
            model_version=version,
        )
    store.save_profile("weather", "baseline", "features", {"version": "2"}, model_version="2")

    latest = store.latest_baseline("weather", "predictions")
    first = store.latest_baseline("weather", "predictions", model_version="1")

    assert latest is not None and latest.payload == {"version": "2"}
    assert latest.model_name == "weather-model" and latest.kind == "baseline"
    assert first is not None and first.payload == {"version": "1"}
    assert store.latest_baseline("weather", "predictions", model_name="other") is None


def test_bad_profiles_are_refused(store: RunStore) -> None:
    with pytest.raises(TypeError, match="profile payload must be a mapping"):
        store.save_profile("weather", "batch", "features", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(RunNotFound):
        store.save_profile("weather", "batch", "features", {}, run_id="nope")
    with pytest.raises(ValueError, match="since is a naive datetime"):
        store.profiles("weather", "batch", "features", since=datetime(2024, 3, 1))
