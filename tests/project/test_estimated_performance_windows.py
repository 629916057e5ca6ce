"""Estimated performance end to end: calibrated at training, estimated per batch window,
recorded with the window, alerted through the alert store when it falls, shown by
`shipml monitor status` and the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from _task_projects import WINDOW, WINDOW_START, write_task_project
from shipml.cli import app
from shipml.monitoring import ESTIMATED_METRICS, ESTIMATED_PERFORMANCE
from shipml.project import (
    ModelBaselines,
    Project,
    load_performance,
    load_windows,
    render_report,
    run_window,
    train,
)
from shipml.windows import Window


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 1%-positive binary project, trained and promoted to champion."""
    directory = tmp_path_factory.mktemp("rare")
    write_task_project(directory, "rare")
    project = Project.load(directory)
    outcome = train(project)
    project.tracker.promote(outcome.model.version, "champion")
    return directory


def _window(directory: Path, offset: int, rows: pd.DataFrame) -> Window:
    window = Window(WINDOW_START + offset * WINDOW, WINDOW_START + (offset + 1) * WINDOW)
    rows.to_csv(
        directory / "data" / "windows" / f"rows_{window.start:%Y%m%dT%H%M}.csv", index=False
    )
    return window


def _holdout_like(directory: Path, rows: int, seed: int) -> pd.DataFrame:
    frame = pd.read_csv(directory / "data" / "train.csv").drop(columns=["fraud"])
    return frame.sample(n=rows, random_state=seed)


def test_training_stores_the_calibration_and_holdout_with_the_version(trained: Path) -> None:
    model = Project.load(trained).tracker.load("champion")
    baselines = ModelBaselines.from_json(model.baseline)

    assert baselines is not None
    performance = baselines.monitoring.performance
    assert performance is not None
    assert performance.probability == "score" and performance.label == "fraud"
    assert performance.threshold == model.threshold
    assert performance.rows == 1_200  # the holdout: 20% of 6,000 rows


def test_each_window_records_its_estimates_and_a_fall_alerts(trained: Path) -> None:
    project = Project.load(trained)
    quiet = _window(trained, 1, _holdout_like(trained, 60, seed=1))
    run_window(project, quiet)
    # The model hesitates: features shrunk toward 0 push every score to the base rate.
    shrunk = _holdout_like(trained, 60, seed=2)
    features = [f"x{i}" for i in range(6)]
    shrunk[features] = shrunk[features] * 0.1
    degraded = _window(trained, 2, shrunk)
    outcome = run_window(project, degraded)

    windows = load_windows(project.store, project.name, kinds=("batch",))
    estimates = {w.start: {r.metric: r for r in w.evaluation.performance} for w in windows}
    assert set(estimates[quiet.start]) == set(ESTIMATED_METRICS)
    assert estimates[quiet.start]["roc_auc"].method == "chunks"
    assert estimates[quiet.start]["roc_auc"].n_chunks == 20  # 1,200 holdout rows / 60
    assert not any(r.dropped for r in estimates[quiet.start].values())
    fallen = estimates[degraded.start]["roc_auc"]
    assert fallen.dropped and fallen.value is not None and fallen.value < 0.8
    alerts = project.store.alerts(status="open", pipeline=project.name)
    assert any(a.rule == ESTIMATED_PERFORMANCE and a.column == "roc_auc" for a in alerts)
    assert any("estimated roc_auc (CBPE)" in message for message in outcome.alerts)

    records = load_performance(project.store, project.name)
    assert {r.kind for r in records} == {"estimated"}
    by_window = {r.window_start: r for r in records}
    fell = {r.metric for r in by_window[degraded.start].degraded}
    assert "roc_auc" in fell
    assert fell == {a.column for a in alerts if a.rule == ESTIMATED_PERFORMANCE}
    quiet_record = by_window[quiet.start]
    assert quiet_record.metrics["accuracy"] == pytest.approx(
        estimates[quiet.start]["accuracy"].value
    )
    assert {r.metric for r in quiet_record.results} == {"roc_auc", "f1", "accuracy"}
    assert quiet_record.judged and quiet_record.labels == 0
    assert all(np.isfinite(r.baseline_std) for r in quiet_record.results)

    status = CliRunner().invoke(app, ["monitor", "status", "--project", str(trained), "--json"])
    shown = json.loads(status.stdout)
    assert "estimated" not in shown  # one status key for both kinds: "performance"
    assert {r["kind"] for r in shown["performance"]} == {"estimated"}
    assert any(
        r["metric"] == "roc_auc" and r["degraded"]
        for record in shown["performance"]
        for r in record["results"]
    )
    text = CliRunner().invoke(app, ["monitor", "status", "--project", str(trained)])
    assert "estimated before them, CBPE" in text.stdout
    page = render_report(project.name, None, windows, alerts, performance=records)
    assert '<section id="performance"><h2>Model performance</h2>' in page
    assert '<section id="estimated">' not in page
