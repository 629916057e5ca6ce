"""The shadow's predictions logged with their request ids, and judged on the same labels.

A real `shipml serve` session on a binary project (breast cancer) with a champion and a
challenger trained on partly flipped labels: every answered request is scored in shadow, the
challenger's output rows are written by the monitor's flush to the challenger's prediction
log, and `labels ingest` judges both models on the same labels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from _server import free_port, process, shipml_command, wait_until_ready
from sklearn import metrics as sk
from typer.testing import CliRunner

from _task_projects import LABELLED_AT, LABELS, WINDOW, WINDOW_START, write_task_project
from shipml.cli import app
from shipml.project.labels import ingest_labels
from shipml.project.predictions import logged_windows
from shipml.project.project import Project


def shipml(*arguments: str) -> Any:
    """Run a CLI command with --json; its parsed output (the command must succeed)."""
    outcome = CliRunner().invoke(app, [*arguments, "--json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


def test_the_shadows_predictions_are_logged_by_request_and_judged_on_the_same_labels(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "project"
    data = write_task_project(directory, "breast_cancer", extra_settings=LABELS)
    shipml("train", "--project", str(directory), "--promote", "champion")
    flipped = data.frame.copy()
    chosen = np.random.default_rng(0).random(len(flipped)) < 0.3
    other = flipped[data.label].map({data.positive: "benign", "benign": data.positive})
    flipped.loc[chosen, data.label] = other[chosen]
    flipped.to_csv(directory / "data" / "train.csv", index=False)
    challenger = shipml("train", "--project", str(directory))["model"]["version"]
    shipml("promote", challenger, "--alias", "challenger", "--force", "--project", str(directory))
    fresh = data.frame.head(30)
    records = fresh.drop(columns=[data.label]).to_dict(orient="records")
    port, log = free_port(), tmp_path / "server.log"
    command = shipml_command("serve", "--project", str(directory), "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    with process(command, log, {"SHIPML_SERVING__MONITOR_FLUSH_REQUESTS": "10"}) as server:
        wait_until_ready(url, server, log)
        answers = [httpx.post(f"{url}/predict", json=records[i : i + 3]) for i in range(0, 30, 3)]
        assert all(a.status_code == 200 for a in answers), answers[0].text
    # stopping the server scores what the shadow still holds, then flushes every window

    shadow = logged_windows(directory, "breast_cancer.challenger", ("online",))
    theirs = pd.concat([w.read() for w in shadow], ignore_index=True)
    assert sorted(theirs["id"]) == sorted(fresh["id"]), log.read_text()[-3000:]
    assert set(theirs["_model_version"]) == {challenger}
    assert set(theirs["_request_id"]) == {a.headers["x-request-id"] for a in answers}
    fresh[["id", data.label]].assign(labelled_at=(LABELLED_AT + WINDOW).isoformat()).to_csv(
        directory / "data" / "labels.csv", index=False
    )

    found = ingest_labels(Project.load(directory), WINDOW_START, LABELLED_AT + 2 * WINDOW)

    ours = {r.window: r for r in found.records}
    assert sum(r.labels for r in ours.values()) == 30
    assert {r.model_version for r in found.challenger_records} == {challenger}
    truth = fresh.set_index("id")[data.label]
    for record in found.challenger_records:  # the shadow's predictions of each window's requests
        (window,) = [
            w for w in logged_windows(directory, "breast_cancer") if w.name == record.window
        ]
        rows = theirs[theirs["_request_id"].isin(window.read()["_request_id"])]
        actual = truth.loc[rows["id"]].to_numpy() == data.positive
        decided = rows[data.label].to_numpy() == data.positive
        assert record.labels == ours[record.window].labels == len(rows)
        assert record.metrics["accuracy"] == pytest.approx(sk.accuracy_score(actual, decided))
    assert sum(r.labels for r in found.challenger_records) == 30
