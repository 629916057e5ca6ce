"""Monitored windows saved in the run store and read back in window order."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from _monitored import baseline, monitored_windows
from shipml.monitoring import MonitoringError
from shipml.project.history import load_baseline, load_windows, save_window
from shipml.store import RunStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    with RunStore(f"sqlite:///{tmp_path / 'shipml.db'}") as opened:
        yield opened


def test_batch_and_online_windows_come_back_interleaved_in_time(store: RunStore) -> None:
    windows = monitored_windows(6)
    for n, window in enumerate(windows):
        kind = "batch" if n % 2 else "online"
        save_window(
            store,
            "toy",
            kind,
            profile=window.profile,
            latency=window.latency,
            evaluation=window.evaluation,
            window_start=window.start,
            window_end=window.end,
        )

    found = load_windows(store, "toy")

    assert [w.start for w in found] == [w.start for w in windows]
    assert [w.kind for w in found] == ["online", "batch"] * 3
    assert found[-1].evaluation == windows[-1].evaluation
    assert found[-1].latency == windows[-1].latency
    assert [w.start for w in load_windows(store, "toy", last=2)] == [
        windows[4].start,
        windows[5].start,
    ]


def test_the_newest_baseline_is_loaded(store: RunStore) -> None:
    assert load_baseline(store, "toy") is None

    store.save_profile("toy", "baseline", "baseline", baseline().model_dump(mode="json"))

    assert load_baseline(store, "toy") == baseline()


def test_a_window_without_evaluation_or_baseline_is_left_out_with_a_warning(
    store: RunStore, caplog: pytest.LogCaptureFixture
) -> None:
    window = monitored_windows(1)[0]
    store.save_profile(
        "toy", "batch", "window", window.profile.model_dump(mode="json"), window_start=window.start
    )

    with caplog.at_level(logging.WARNING):
        found = load_windows(store, "toy")

    assert found == []
    assert "no stored evaluation and there is no baseline" in caplog.text


def test_bad_arguments_are_refused(store: RunStore) -> None:
    window = monitored_windows(1)[0]
    with pytest.raises(MonitoringError, match="window kind must be one of"):
        save_window(store, "toy", "nightly", profile=window.profile, evaluation=window.evaluation)
    with pytest.raises(MonitoringError, match="last must be a positive number"):
        load_windows(store, "toy", last=0)
