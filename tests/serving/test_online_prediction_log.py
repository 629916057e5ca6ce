"""Online predictions kept in the prediction log with their request ids, joined to late labels.

A real `shipml serve` session on a trained binary project with `[labels] key = ["id"]`: the
answered predictions are written by the monitor's flush (one file per online window, never
one write per request), and `labels ingest` joins labels to them afterwards.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from _server import free_port, process, shipml_command, wait_until_ready
from typer.testing import CliRunner

from _task_projects import LABELLED_AT, LABELS, WINDOW, WINDOW_START, TaskData, write_task_project
from shipml.cli import app
from shipml.project.labels import ingest_labels
from shipml.project.predictions import logged_windows
from shipml.project.project import Project


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TaskData]:
    directory = tmp_path_factory.mktemp("online_labels")
    data = write_task_project(directory, "breast_cancer", extra_settings=LABELS)
    outcome = CliRunner().invoke(
        app, ["train", "--project", str(directory), "--promote", "champion", "--json"]
    )
    assert outcome.exit_code == 0, outcome.output
    json.loads(outcome.stdout)
    return directory, data


def test_online_predictions_are_logged_with_request_ids_and_joined_after_a_serve_session(
    trained: tuple[Path, TaskData], tmp_path: Path
) -> None:
    directory, data = trained
    fresh = data.frame.head(30)
    records = fresh.drop(columns=[data.label]).to_dict(orient="records")
    port, log = free_port(), tmp_path / "server.log"
    command = shipml_command("serve", "--project", str(directory), "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    with process(command, log, {"SHIPML_SERVING__MONITOR_FLUSH_REQUESTS": "10"}) as server:
        wait_until_ready(url, server, log)
        answers = [httpx.post(f"{url}/predict", json=records[i : i + 3]) for i in range(0, 30, 3)]
        assert all(a.status_code == 200 for a in answers), answers[0].text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not logged_windows(
            directory, "breast_cancer", ("online",)
        ):
            time.sleep(0.2)

    online = pd.concat([w.read() for w in logged_windows(directory, "breast_cancer", ("online",))])
    assert sorted(online["id"]) == sorted(fresh["id"])
    assert set(online["_request_id"]) == {a.headers["x-request-id"] for a in answers}
    labels = fresh[["id", data.label]].assign(labelled_at=(LABELLED_AT + WINDOW).isoformat())
    labels.to_csv(directory / "data" / "labels.csv", index=False)

    found = ingest_labels(Project.load(directory), WINDOW_START, LABELLED_AT + 2 * WINDOW)

    assert (found.labels_read, found.matched, found.unmatched) == (30, 30, 0)
    assert [
        r.labels for r in found.records if r.window != WINDOW_START.strftime("%Y%m%dT%H%MZ")
    ] == [30]
