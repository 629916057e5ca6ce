"""Run lifecycle, step timings, lineage and window lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from shipml.store import RunNotFound, RunStore, StoreError

WINDOW = datetime(2024, 3, 1, tzinfo=UTC)
LINEAGE = {
    "git_commit": "3f2c1e9",
    "git_dirty": False,
    "data_version": "md5:8d777f385d3dfec8815d20f7496026dc",
    "config_hash": "sha256:ab12",
    "model_name": "weather",
    "model_version": 3,
    "model_alias": "champion",
    "shipml_version": "0.1.0",
}


def test_a_batch_run_from_start_to_finish(store: RunStore) -> None:
    before = datetime.now(UTC)
    run_id = store.start_run(
        "weather",
        "batch",
        window_start=WINDOW,
        window_end=WINDOW + timedelta(hours=1),
        lineage=LINEAGE,
        engine="dask",
    )
    running = store.run(run_id).run
    assert running.status == "running"
    assert running.finished_at is None and running.duration_s is None
    assert before <= running.started_at <= datetime.now(UTC)

    finished = store.finish_run(
        run_id,
        status="succeeded",
        rows_in=np.int64(1000),
        rows_valid=990,
        rows_quarantined=10,
        rows_out=990,
        output="out/2024-03-01T00.parquet",
    )

    assert store.run(run_id).run == finished
    assert finished.status == "succeeded"
    assert (finished.rows_in, finished.rows_valid, finished.rows_quarantined) == (1000, 990, 10)
    assert finished.rows_out == 990 and finished.output == "out/2024-03-01T00.parquet"
    assert finished.window_start == WINDOW and finished.window_end == WINDOW + timedelta(hours=1)
    assert finished.duration_s is not None and finished.duration_s >= 0
    assert finished.engine == "dask" and finished.attempt == 1
    assert finished.git_commit == "3f2c1e9" and finished.git_dirty is False
    assert finished.model_version == "3" and finished.model_alias == "champion"
    assert finished.data_version == LINEAGE["data_version"]


def test_a_failed_run_keeps_its_error_traceback_and_step(store: RunStore) -> None:
    run_id = store.start_run("weather", "train")
    store.finish_run(
        run_id,
        status="failed",
        error="ValueError: temperature out of range",
        traceback='Traceback (most recent call last):\n  File "steps.py", line 3',
        failed_step="featurize",
    )
    run = store.run(run_id).run
    assert run.status == "failed"
    assert run.error == "ValueError: temperature out of range"
    assert run.traceback is not None and run.traceback.startswith("Traceback")
    assert run.failed_step == "featurize"


def test_datetimes_come_back_in_utc_whatever_zone_went_in(store: RunStore) -> None:
    paris_midnight = datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=1)))
    run_id = store.start_run("weather", "batch", window_start=paris_midnight)
    window_start = store.run(run_id).run.window_start
    assert window_start == paris_midnight
    assert window_start is not None and window_start.tzinfo == UTC
    assert window_start.hour == 23


def test_steps_are_recorded_in_pipeline_order(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch", window_start=WINDOW)
    started = datetime.now(UTC)
    store.record_step(run_id, "featurize", 1, started + timedelta(seconds=1), 0.25, 990, 990)
    store.record_step(run_id, "preprocess", 0, started, 1.5, rows_in=1000, rows_out=990)
    store.record_step(run_id, "predict", 2, started + timedelta(seconds=2), 0.125)

    steps = store.run(run_id).steps

    assert [s.step for s in steps] == ["preprocess", "featurize", "predict"]
    assert [s.duration_s for s in steps] == [1.5, 0.25, 0.125]
    assert (steps[0].rows_in, steps[0].rows_out) == (1000, 990)
    assert (steps[2].rows_in, steps[2].rows_out) == (None, None)
    assert steps[0].started_at == started


def test_the_latest_run_of_a_window_drives_idempotency(store: RunStore) -> None:
    assert store.latest_window_run("weather", WINDOW) is None
    first = store.start_run("weather", "batch", window_start=WINDOW)
    store.finish_run(first, status="failed", error="boom")
    retry = store.start_run("weather", "batch", window_start=WINDOW)
    store.start_run("weather", "batch", window_start=WINDOW + timedelta(hours=1))
    store.start_run("other", "batch", window_start=WINDOW)

    latest = store.latest_window_run("weather", WINDOW)

    assert latest is not None
    assert latest.id == retry and latest.attempt == 2 and latest.status == "running"
    assert store.latest_window_run("weather", WINDOW, kind="online") is None


def test_runs_are_listed_newest_first_and_filtered(store: RunStore) -> None:
    train = store.start_run("weather", "train")
    batch = store.start_run("weather", "batch", window_start=WINDOW)
    other = store.start_run("traffic", "batch", window_start=WINDOW)

    assert [run.id for run in store.runs()] == [other, batch, train]
    assert [run.id for run in store.runs(limit=2)] == [other, batch]
    assert [run.id for run in store.runs(pipeline="weather")] == [batch, train]
    assert [run.id for run in store.runs(kind="batch")] == [other, batch]
    assert store.runs(pipeline="weather", kind="online") == []


def test_a_finished_run_cannot_be_finished_again(store: RunStore) -> None:
    run_id = store.start_run("weather", "train")
    store.finish_run(run_id, status="skipped")
    with pytest.raises(StoreError, match="already finished with status 'skipped'"):
        store.finish_run(run_id, status="failed")


def test_unknown_runs_are_reported(store: RunStore) -> None:
    with pytest.raises(RunNotFound, match="no run with id 'nope'"):
        store.run("nope")
    with pytest.raises(RunNotFound):
        store.finish_run("nope", status="succeeded")
    with pytest.raises(RunNotFound):
        store.record_step("nope", "preprocess", 0, WINDOW, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.start_run("weather", "nightly"), "unknown run kind 'nightly'"),
        (lambda s: s.start_run("", "train"), "pipeline must be a non-empty string"),
        (lambda s: s.start_run("weather", "train", engine="spark"), "unknown engine 'spark'"),
        (
            lambda s: s.start_run("weather", "batch", window_start=datetime(2024, 3, 1)),
            "window_start is a naive datetime",
        ),
        (
            lambda s: s.start_run("weather", "train", lineage={"git_sha": "abc"}),
            r"unknown lineage keys \['git_sha'\]",
        ),
        (
            lambda s: s.start_run("weather", "train", lineage={"git_commit": "x" * 65}),
            "lineage git_commit is 65 characters long; the limit is 64",
        ),
        (
            lambda s: s.finish_run(s.start_run("weather", "train"), status="running"),
            "unknown final run status 'running'",
        ),
        (
            lambda s: s.finish_run(s.start_run("w", "train"), status="succeeded", rows_in=-1),
            "rows_in must be a non-negative integer",
        ),
    ],
)
def test_bad_arguments_get_one_line_errors(store: RunStore, call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(store)
