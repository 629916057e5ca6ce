"""Once labels exist, the challenger's realized performance is judged beside the champion's.

A binary project (breast cancer) trains a champion through the CLI, then a challenger on
labels partly flipped, set by `shipml promote --alias challenger --force`. One batch window of
60 rows is scored by both (`[model] challenger_in_batch`); labels arrive for 45 of them. Both
models' predictions of those rows are judged on the same labels: two realized records, each
equal to scikit-learn's metrics on that model's own output, shown side by side by `monitor
status`, and the window's lineage lists the challenger's output, version and alias move.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk
from typer.testing import CliRunner

from _task_projects import LABELLED_AT, LABELS, WINDOW, WINDOW_START, TaskData, write_task_project
from shipml.cli import app
from shipml.monitoring import PerformanceRecord
from shipml.project.labels import LabelIngest, ingest_labels
from shipml.project.performance import load_performance
from shipml.project.project import Project
from shipml.project.promotion import evaluate

CHALLENGER_IN_BATCH = """
[model]
challenger_in_batch = true
"""
LABELLED = 45


def shipml(*arguments: str) -> Any:
    """Run a CLI command with --json; its parsed output (the command must succeed)."""
    outcome = CliRunner().invoke(app, [*arguments, "--json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


@pytest.fixture(scope="module")
def ingested(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, TaskData, dict[str, Any], LabelIngest]:
    """Champion v1 and challenger v2 scored one window; 45 of its rows got labels."""
    directory = tmp_path_factory.mktemp("challenger-labels")
    project = str(directory)
    data = write_task_project(
        directory, "breast_cancer", extra_settings=CHALLENGER_IN_BATCH + LABELS
    )
    shipml("train", "--project", project, "--promote", "champion")
    flipped = data.frame.copy()
    other = flipped[data.label].map({data.positive: "benign", "benign": data.positive})
    chosen = np.random.default_rng(0).random(len(flipped)) < 0.3
    flipped.loc[chosen, data.label] = other[chosen]
    flipped.to_csv(directory / "data" / "train.csv", index=False)
    challenger = shipml("train", "--project", project)["model"]["version"]
    shipml("promote", challenger, "--alias", "challenger", "--force", "--project", project)
    (window,) = shipml(
        "run", "--project", project,
        "--start", WINDOW_START.isoformat(), "--end", (WINDOW_START + WINDOW).isoformat(),
    )  # fmt: skip
    assert window["status"] == "succeeded" and window["challenger"]["error"] is None, window
    ids = pd.read_parquet(window["output"])["id"].to_numpy()[:LABELLED]
    truth = data.frame.set_index("id")[data.label]
    labels = pd.DataFrame({"id": ids, data.label: truth.loc[ids].to_numpy()})
    labels.assign(labelled_at=(LABELLED_AT + WINDOW).isoformat()).to_csv(
        directory / "data" / "labels.csv", index=False
    )
    found = ingest_labels(Project.load(directory), WINDOW_START, LABELLED_AT + 2 * WINDOW)
    return directory, data, window, found


def _scikit_learn(data: TaskData, output: str, labels: Path) -> dict[str, float]:
    """roc_auc, f1 and accuracy of one model's output on the labelled rows, by scikit-learn."""
    truth = pd.read_csv(labels).set_index("id")[data.label]
    joined = pd.read_parquet(output).set_index("id").loc[truth.index]
    actual = truth.to_numpy() == data.positive
    decided = joined[data.label].to_numpy() == data.positive
    return {
        "roc_auc": sk.roc_auc_score(actual, joined[f"probability_{data.positive}"]),
        "f1": sk.f1_score(actual, decided),
        "accuracy": sk.accuracy_score(actual, decided),
    }


def _close(record: PerformanceRecord, expected: dict[str, float]) -> None:
    for metric, value in expected.items():
        assert record.metrics[metric] == pytest.approx(value), metric


def test_both_models_are_judged_on_the_same_labels_as_scikit_learn_scores_them(
    ingested: tuple[Path, TaskData, dict[str, Any], LabelIngest],
) -> None:
    directory, data, window, found = ingested
    labels = directory / "data" / "labels.csv"

    (champion,) = found.records
    (challenger,) = found.challenger_records

    assert (champion.model_version, challenger.model_version) == ("1", "2")
    assert champion.window == challenger.window
    assert champion.labels == challenger.labels == LABELLED
    assert challenger.predictions == 60 and challenger.judged
    assert {r.metric for r in challenger.results} == {"roc_auc", "f1"}
    _close(champion, _scikit_learn(data, window["output"], labels))
    _close(challenger, _scikit_learn(data, window["challenger"]["output"], labels))
    assert champion.metrics != challenger.metrics
    project = Project.load(directory)
    assert load_performance(project.store, project.name, challenger=True) == [challenger]
    assert challenger not in load_performance(project.store, project.name)


def test_the_challengers_baseline_is_its_own_holdout(
    ingested: tuple[Path, TaskData, dict[str, Any], LabelIngest],
) -> None:
    _, _, _, found = ingested
    (champion,) = found.records
    (challenger,) = found.challenger_records

    ours = {r.metric: r.baseline_mean for r in champion.results}
    theirs = {r.metric: r.baseline_mean for r in challenger.results}

    assert ours["f1"] != theirs["f1"]  # v2 learnt from flipped labels: its holdout scores lower


def test_monitor_status_shows_champion_and_challenger_side_by_side(
    ingested: tuple[Path, TaskData, dict[str, Any], LabelIngest],
) -> None:
    directory, _, _, found = ingested
    (champion,) = found.records
    (challenger,) = found.challenger_records

    status = shipml("monitor", "status", "--project", str(directory))
    text = CliRunner().invoke(app, ["monitor", "status", "--project", str(directory)]).output

    (compared,) = status["challenger"]
    assert (compared["champion_version"], compared["challenger_version"]) == ("1", "2")
    assert compared["champion_labels"] == compared["challenger_labels"] == LABELLED
    by_metric = {m["metric"]: m for m in compared["metrics"]}
    auc = by_metric["roc_auc"]
    assert auc["champion"] == pytest.approx(champion.metrics["roc_auc"])
    assert auc["challenger"] == pytest.approx(challenger.metrics["roc_auc"])
    assert auc["difference"] == pytest.approx(auc["challenger"] - auc["champion"])
    assert "champion vs challenger" in text and "v1 / v2" in text


def test_the_windows_lineage_lists_the_challenger_output_version_and_move(
    ingested: tuple[Path, TaskData, dict[str, Any], LabelIngest],
) -> None:
    directory, _, window, _ = ingested

    found = shipml("lineage", window["run_id"], "--project", str(directory))
    text = CliRunner().invoke(app, ["lineage", window["run_id"], "--project", str(directory)])

    assert found["run"]["output"] == window["output"]
    scored = found["challenger"]["scored"]
    assert scored["output"] == window["challenger"]["output"]
    assert (scored["version"], scored["alias"]) == ("2", "challenger")
    move = found["challenger"]["move"]
    assert (move["to_version"], move["alias"], move["forced"]) == ("2", "challenger", True)
    assert "challenger output" in text.output and "move #" in text.output


def test_the_promotion_gate_compares_them_on_the_labelled_production_rows(
    ingested: tuple[Path, TaskData, dict[str, Any], LabelIngest],
) -> None:
    directory, _, _, found = ingested
    (champion,) = found.records
    (challenger,) = found.challenger_records

    verdict = evaluate(Project.load(directory), "2")

    assert verdict.evaluated_on == f"labelled production rows of 1 window ({LABELLED} rows)"
    rows = {row.metric: row for row in verdict.rows}
    assert rows["roc_auc"].candidate == pytest.approx(challenger.metrics["roc_auc"])
    assert rows["roc_auc"].champion == pytest.approx(champion.metrics["roc_auc"])
    assert not verdict.passed  # v2 learnt from flipped labels
