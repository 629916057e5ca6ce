"""Late labels joined to logged predictions: exact counts, nothing dropped, scikit-learn's metrics.

A binary project (breast cancer) is trained and promoted through the CLI, one batch window of
60 rows is scored, and labels arrive later in one CSV cut by a time column: some match,
some repeat a key, some match no prediction, some are unusable, and some predictions never
get a label.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from typer.testing import CliRunner

from _task_projects import WINDOW, WINDOW_START, TaskData, write_task_project
from shipml.cli import app
from shipml.project.labels import ingest_due, ingest_labels
from shipml.project.predictions import logged_windows
from shipml.project.project import Project

LABELS = """
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


def shipml(*arguments: str) -> Any:
    """Run a CLI command with --json; its parsed output (the command must succeed)."""
    outcome = CliRunner().invoke(app, [*arguments, "--json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TaskData, pd.DataFrame]:
    """A trained binary project with one scored window; its output."""
    directory = tmp_path_factory.mktemp("labels")
    data = write_task_project(directory, "breast_cancer", extra_settings=LABELS)
    shipml("train", "--project", str(directory), "--promote", "champion")
    windows = shipml(
        "run", "--project", str(directory),
        "--start", WINDOW_START.isoformat(), "--end", (WINDOW_START + WINDOW).isoformat(),
    )  # fmt: skip
    assert windows[0]["status"] == "succeeded", windows
    return directory, data, pd.read_parquet(windows[0]["output"])


def _labels(data: TaskData, output: pd.DataFrame) -> pd.DataFrame:
    """40 matching labels, 3 repeats, 5 unknown ids, 2 null labels; 20 predictions unlabelled."""
    truth = data.frame.set_index("id")[data.label]
    ids = output["id"].to_numpy()
    matching = pd.DataFrame({"id": ids[:40], data.label: truth.loc[ids[:40]].to_numpy()})
    repeats = matching.iloc[:3]
    unknown = pd.DataFrame({"id": [100_000 + i for i in range(5)], data.label: "benign"})
    null = pd.DataFrame({"id": ids[40:42], data.label: [None, None]})
    rows = pd.concat([matching, repeats, unknown, null], ignore_index=True)
    return rows.assign(labelled_at=(LATER + WINDOW).isoformat())


def test_labels_join_by_key_with_exact_counts_and_scikit_learns_metrics(
    scored: tuple[Path, TaskData, pd.DataFrame],
) -> None:
    directory, data, output = scored
    labels = _labels(data, output)
    labels.to_csv(directory / "data" / "labels.csv", index=False)
    project = Project.load(directory)

    found = ingest_labels(project, WINDOW_START, LATER + 2 * WINDOW, now=LATER + timedelta(days=2))

    assert found.labels_read == 50
    assert (found.matched, found.duplicates, found.unmatched, found.invalid) == (40, 3, 5, 2)
    assert found.overdue == 20  # the 18 never labelled, and the 2 whose label was null
    rejected = pd.read_parquet(found.rejected)
    assert len(rejected) == 10
    assert sorted(rejected["_reason"].str.split(":").str[0]) == [
        *["duplicate"] * 3, *["invalid"] * 2, *["unmatched"] * 5,
    ]  # fmt: skip
    (record,) = found.records
    assert record.kind == "realized" and record.labels == 40 and record.predictions == 60
    joined = output.set_index("id").loc[labels["id"].iloc[:40]]
    actual = labels[data.label].iloc[:40].to_numpy() == data.positive
    probability = joined[f"probability_{data.positive}"].to_numpy()
    decided = joined[data.label].to_numpy() == data.positive
    assert record.metrics["roc_auc"] == pytest.approx(sk.roc_auc_score(actual, probability))
    assert record.metrics["f1"] == pytest.approx(sk.f1_score(actual, decided))
    assert record.metrics["accuracy"] == pytest.approx(sk.accuracy_score(actual, decided))
    assert record.metrics["log_loss"] == pytest.approx(sk.log_loss(actual, probability))
    assert record.judged and {r.metric for r in record.results} == {"roc_auc", "f1"}
    stored = project.store.label_ingests(project.name)
    assert stored[0].matched == 40 and stored[0].labels_read == 50

    again = ingest_labels(project, WINDOW_START, LATER + 2 * WINDOW, now=LATER + timedelta(days=2))

    assert (again.matched, again.duplicates, again.unmatched, again.invalid) == (0, 43, 5, 2)
    assert again.records == []


def test_the_prediction_log_keeps_every_prediction_with_its_key(
    scored: tuple[Path, TaskData, pd.DataFrame],
) -> None:
    directory, _, output = scored
    (logged,) = logged_windows(directory, "breast_cancer")
    frame = logged.read()
    assert sorted(frame["id"]) == sorted(output["id"])
    assert {"_window_start", "_model_version", "_run_id"} <= set(frame.columns)
    assert np.isfinite(frame["probability_malignant"]).all()


def test_the_cli_reports_the_counts(scored: tuple[Path, TaskData, pd.DataFrame]) -> None:
    directory, data, output = scored
    _labels(data, output).to_csv(directory / "data" / "labels.csv", index=False)
    found = shipml(
        "labels", "ingest", "--project", str(directory),
        "--start", WINDOW_START.isoformat(), "--end", (LATER + 2 * WINDOW).isoformat(),
    )  # fmt: skip
    assert found["labels_read"] == 50
    total = found["matched"] + found["duplicates"] + found["unmatched"] + found["invalid"]
    assert total == 50


def test_monitor_status_shows_realized_performance_per_window(
    scored: tuple[Path, TaskData, pd.DataFrame],
) -> None:
    directory, data, output = scored
    _labels(data, output).to_csv(directory / "data" / "labels.csv", index=False)
    ingest_labels(Project.load(directory), WINDOW_START, LATER + 2 * WINDOW)

    status = shipml("monitor", "status", "--project", str(directory))

    (record,) = [r for r in status["performance"] if r["kind"] == "realized"]
    assert record["window"] == WINDOW_START.strftime("%Y%m%dT%H%MZ")
    assert record["labels"] == 40 and record["judged"]
    text = CliRunner().invoke(app, ["monitor", "status", "--project", str(directory)]).output
    assert "model performance per window" in text and "roc_auc" in text


def test_the_report_shows_performance_per_window(
    scored: tuple[Path, TaskData, pd.DataFrame], tmp_path: Path
) -> None:
    directory, data, output = scored
    _labels(data, output).to_csv(directory / "data" / "labels.csv", index=False)
    ingest_labels(Project.load(directory), WINDOW_START, LATER + 2 * WINDOW)
    page = tmp_path / "report.html"

    outcome = CliRunner().invoke(
        app, ["monitor", "report", "--project", str(directory), "--out", str(page)]
    )

    assert outcome.exit_code == 0, outcome.output
    html = page.read_text()
    assert 'id="performance"' in html and 'id="performance-windows"' in html
    assert "roc_auc" in html and "realized" in html


def test_labels_that_arrive_later_join_the_same_window(
    scored: tuple[Path, TaskData, pd.DataFrame],
) -> None:
    directory, data, output = scored
    truth = data.frame.set_index("id")[data.label]
    late = output["id"].to_numpy()[42:50]
    labels = pd.DataFrame({"id": late, data.label: truth.loc[late].to_numpy()})
    labels.assign(labelled_at=(LATER + WINDOW).isoformat()).to_csv(
        directory / "data" / "labels.csv", index=False
    )

    found = ingest_labels(
        Project.load(directory), WINDOW_START, LATER + 2 * WINDOW, now=LATER + timedelta(days=2)
    )

    assert (found.labels_read, found.matched, found.duplicates) == (8, 8, 0)
    assert found.overdue == 12  # 60 predictions, 48 labelled
    (record,) = found.records
    assert record.labels == 48


def test_the_scheduler_ingests_from_where_the_last_ingest_stopped(
    scored: tuple[Path, TaskData, pd.DataFrame],
) -> None:
    directory, _, _ = scored
    project = Project.load(directory)
    stopped = project.store.label_ingests(project.name, limit=1)[0].range_end

    found = ingest_due(project, stopped + WINDOW)

    assert found is not None and (found.start, found.end) == (stopped, stopped + WINDOW)
    assert ingest_due(project, stopped + WINDOW) is None  # nothing new to read
