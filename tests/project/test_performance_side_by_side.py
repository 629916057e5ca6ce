"""Estimated and realized performance of one window, in one shape, from one reader.

The rare-positive binary project (calibrated probabilities, a holdout of 1,200 rows) scores
one batch window of 100 rows: CBPE estimates it at once, labels arrive later and realize it.
Both records come back from `load_performance` under the window's key, and every place
people look shows them side by side: `monitor status --json` under "performance", the
report's one performance chart, and the Prometheus textfile with a `kind` label.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from _task_projects import WINDOW, WINDOW_START, write_task_project
from shipml.cli import app
from shipml.project import Project, load_performance
from shipml.project.labels import ingest_labels

SETTINGS = """
[monitoring]
prometheus_textfile = "rare.prom"

[labels]
key = ["id"]
min_labels = 20
label_delay = "1d"

[labels.source]
kind = "files"
path = "data/labels.csv"
time_column = "labelled_at"
"""
LATER = WINDOW_START + timedelta(hours=6)
KEY = f"{WINDOW_START:%Y%m%dT%H%M}Z"


def shipml(*arguments: str) -> Any:
    """Run a CLI command with --json; its parsed output (the command must succeed)."""
    outcome = CliRunner().invoke(app, [*arguments, "--json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project trained, one window of 100 rows (20 frauds) scored, its labels ingested."""
    directory = tmp_path_factory.mktemp("side_by_side")
    write_task_project(directory, "rare", extra_settings=SETTINGS)
    rows = pd.read_csv(directory / "data" / "train.csv")
    window = pd.concat(
        [rows[rows["fraud"] == 1].sample(20, random_state=3), rows[rows["fraud"] == 0].head(80)]
    )
    window.drop(columns=["fraud"]).to_csv(
        directory / "data" / "windows" / f"rows_{WINDOW_START:%Y%m%dT%H%M}.csv", index=False
    )
    shipml("train", "--project", str(directory), "--promote", "champion")
    shipml(
        "run", "--project", str(directory),
        "--start", WINDOW_START.isoformat(), "--end", (WINDOW_START + WINDOW).isoformat(),
    )  # fmt: skip
    labels = window[["id", "fraud"]].assign(labelled_at=(LATER + WINDOW).isoformat())
    labels.to_csv(directory / "data" / "labels.csv", index=False)
    ingest_labels(
        Project.load(directory), WINDOW_START, LATER + 2 * WINDOW, now=LATER + timedelta(days=2)
    )
    return directory


def test_one_reader_gives_the_windows_estimated_and_realized_records(labelled: Path) -> None:
    project = Project.load(labelled)

    records = {r.kind: r for r in load_performance(project.store, project.name)}

    assert set(records) == {"estimated", "realized"}
    estimated, realized = records["estimated"], records["realized"]
    assert estimated.window == realized.window == KEY
    assert estimated.window_start == realized.window_start == WINDOW_START
    assert (estimated.predictions, estimated.labels) == (100, 0)
    assert (realized.predictions, realized.labels) == (100, 100)
    assert {r.metric for r in estimated.results} == {"roc_auc", "f1", "accuracy"}
    assert {r.metric for r in realized.results} == {"roc_auc", "f1"}
    assert all(r.n_chunks == 12 for r in estimated.results)  # 1,200 holdout rows / 100


def test_status_shows_both_kinds_under_performance(labelled: Path) -> None:
    status = shipml("monitor", "status", "--project", str(labelled))

    assert "estimated" not in status
    shown = {(r["kind"], r["window"]) for r in status["performance"]}
    assert shown == {("estimated", KEY), ("realized", KEY)}


def test_the_report_charts_both_kinds_of_each_metric_in_one_chart(
    labelled: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    outcome = CliRunner().invoke(
        app, ["monitor", "report", "--project", str(labelled), "--out", str(out)]
    )
    assert outcome.exit_code == 0, outcome.output

    page = out.read_text()
    assert '<section id="estimated">' not in page
    chart = re.search(r'data-chart="chart-performance">(.*?)</script>', page, re.S)
    assert chart is not None
    names = {trace["name"] for trace in json.loads(chart.group(1))["data"]}
    assert {"estimated roc_auc", "realized roc_auc", "estimated f1", "realized f1"} <= names


def test_the_prometheus_textfile_has_a_gauge_of_each_kind(labelled: Path) -> None:
    text = (labelled / "rare_performance.prom").read_text()

    values = {
        (sample.labels["kind"], sample.labels["metric"])
        for family in text_string_to_metric_families(text)
        if family.name == "shipml_model_performance"
        for sample in family.samples
    }
    assert {("estimated", "roc_auc"), ("realized", "roc_auc")} <= values
