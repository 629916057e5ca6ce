"""An online window whose records are mostly rejected failed: it raises `window_failed` (for
online windows), and the next good window closes it. Counts stay true: in = valid + invalid."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from _server import running

from _projects import fitted_model
from shipml.project.project import Project
from shipml.serving import create_app
from shipml.store import RunRecord, RunStore

ProjectMaker = Callable[..., Project]
FLUSH_EVERY_4 = "monitor_flush_requests = 4\nmonitor_flush_seconds = 3600"


def online_runs(store: RunStore, count: int, timeout: float = 30) -> list[RunRecord]:
    """Wait until `count` online windows are stored, whatever their status; oldest first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in store.runs(pipeline="toy", kind="online") if r.status != "running"]
        if len(runs) >= count:
            return sorted(runs, key=lambda r: r.window_start or r.started_at)
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} online windows stored within {timeout} s")


def test_a_mostly_rejected_online_window_fails_loudly_and_a_good_one_clears_it(
    make_project: ProjectMaker, record: dict[str, object]
) -> None:
    project = make_project(serving=FLUSH_EVERY_4, extra="[monitoring]\nmax_rejected_fraction = 0.5")
    broken = {**record, "temperature_c": 500.0}  # above the contract's 150
    with running(create_app(project, model=fitted_model(project.root))) as url:
        answers = [httpx.post(f"{url}/predict", json=body) for body in [broken] * 3 + [record]]
        [failed] = online_runs(project.store, 1)
        opened = [a for a in project.store.alerts(pipeline="toy") if a.rule == "window_failed"]
        for _ in range(4):
            httpx.post(f"{url}/predict", json=record)
        _, good = online_runs(project.store, 2)
        alerts = [a for a in project.store.alerts(pipeline="toy") if a.rule == "window_failed"]

    assert [a.status_code for a in answers] == [422, 422, 422, 200]
    assert failed.status == "failed" and "3 of 4 records rejected (75%" in (failed.error or "")
    assert (failed.rows_in, failed.rows_valid, failed.rows_invalid) == (4, 1, 3)
    assert failed.rows_quarantined == 0
    [alert] = opened
    assert (alert.severity, alert.column, alert.status) == ("critical", "online", "open")
    assert good.status == "succeeded" and good.rows_invalid == 0
    [closed] = alerts
    assert closed.status == "closed" and closed.closed_window_start == good.window_start
