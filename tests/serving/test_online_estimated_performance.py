"""Online windows are estimated too: CBPE on what the server answered, stored as the batch
windows' estimates are (kind "estimated", profile "estimated.online"), under the key their
prediction log has, so realized performance lands beside them once labels arrive."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from _server import running

from _task_projects import LABELLED_AT, LABELS, WINDOW, WINDOW_START, write_task_project
from shipml.project import Project, load_performance, train
from shipml.project.labels import ingest_labels
from shipml.project.predictions import logged_windows
from shipml.serving import create_app

SERVING = """
[serving]
monitor_flush_requests = 10
monitor_flush_seconds = 3600
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rare-positive binary project (calibrated probabilities), trained and promoted."""
    directory = tmp_path_factory.mktemp("online_estimates")
    write_task_project(directory, "rare", extra_settings=SERVING + LABELS)
    project = Project.load(directory)
    project.tracker.promote(train(project).model.version, "champion")
    return directory


def _estimated_online(project: Project, timeout: float = 30) -> None:
    """Wait until an online window's estimates are stored."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if project.store.profiles(project.name, "performance", "estimated.online"):
            return
        time.sleep(0.2)
    raise AssertionError(f"no online window was estimated within {timeout} s")


def _scraped_estimate(url: str, timeout: float = 10) -> str:
    """The service's own /metrics line of the estimated ROC AUC, once the window shows it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = httpx.get(f"{url}/metrics").text.splitlines()
        found = [line for line in lines if line.startswith("shipml_model_performance{")]
        if found:
            return next(line for line in found if 'metric="roc_auc"' in line)
        time.sleep(0.2)
    raise AssertionError(f"/metrics showed no estimated performance within {timeout} s")


def test_an_online_window_is_estimated_and_realized_under_one_key(trained: Path) -> None:
    project = Project.load(trained)
    rows = pd.read_csv(trained / "data" / "train.csv")
    served = pd.concat(
        [rows[rows["fraud"] == 1].sample(6, random_state=4), rows[rows["fraud"] == 0].head(24)]
    ).sample(frac=1, random_state=5)
    records = served.drop(columns=["fraud"]).to_dict(orient="records")
    with running(create_app(project)) as url:
        for start in range(0, 30, 3):
            answer = httpx.post(f"{url}/predict", json=records[start : start + 3])
            assert answer.status_code == 200, answer.text
        _estimated_online(project)
        shown = _scraped_estimate(url)
    assert shown.startswith('shipml_model_performance{kind="estimated",metric="roc_auc"')

    (logged,) = logged_windows(trained, project.name, ("online",))
    (estimated,) = load_performance(project.store, project.name)
    assert (estimated.kind, estimated.window) == ("estimated", logged.name)
    assert estimated.predictions == 30 and estimated.judged
    assert {r.metric for r in estimated.results} == {"roc_auc", "f1", "accuracy"}
    assert all(r.n_chunks == 40 for r in estimated.results)  # 1,200 holdout rows / 30

    labels = served[["id", "fraud"]].assign(labelled_at=(LABELLED_AT + WINDOW).isoformat())
    labels.to_csv(trained / "data" / "labels.csv", index=False)
    ingest_labels(project, WINDOW_START, LABELLED_AT + 2 * WINDOW)

    both = {r.kind: r for r in load_performance(project.store, project.name)}
    assert set(both) == {"estimated", "realized"}
    assert both["realized"].window == both["estimated"].window
    assert both["realized"].window_start == both["estimated"].window_start
