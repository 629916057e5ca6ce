"""Online monitoring: windows of profiles and latencies reach the store, never per request."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from _outage import outage
from _server import running
from sqlalchemy import URL

from _postgres import make_postgres_database
from _projects import fitted_model
from shipml.monitoring import LatencyProfile, Profile, WindowEvaluation
from shipml.project.project import Project
from shipml.serving import create_app
from shipml.store import RunRecord, RunStore
from shipml.versioning.tracking import LoadedModel

ProjectMaker = Callable[..., Project]
FLUSH_EVERY_3 = "monitor_flush_requests = 3\nmonitor_flush_seconds = 3600"


def _with_baseline(directory: Path) -> LoadedModel:
    """The toy model, with the baselines training stores beside it."""
    return fitted_model(directory)


def _metrics_once(url: str, name: str, timeout: float = 10) -> str:
    """/metrics, once it shows `name` (gauges update right after a window is stored)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = httpx.get(f"{url}/metrics").text
        if name in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"/metrics did not show {name} within {timeout} s")


def _online_runs(store: RunStore, count: int, timeout: float = 30) -> list[RunRecord]:
    """Wait until `count` online windows are stored; oldest first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in store.runs(pipeline="toy", kind="online") if r.status == "succeeded"]
        if len(runs) >= count:
            return sorted(runs, key=lambda r: r.window_start)
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} online windows stored within {timeout} s")


def test_a_window_holds_the_profile_and_latencies_of_its_requests(
    make_project: ProjectMaker, record: dict[str, object]
) -> None:
    project = make_project(serving=FLUSH_EVERY_3)
    temperatures = [30.0, 95.0, 120.0]
    with running(create_app(project, model=_with_baseline(project.root))) as url:
        for temperature in temperatures:
            assert httpx.post(f"{url}/predict", json={**record, "temperature_c": temperature})
        [window] = _online_runs(project.store, 1)
        gauges = _metrics_once(url, "shipml_prediction_shift_zscore")

    assert 'shipml_prediction_shift_zscore{pipeline="toy"}' in gauges
    assert (window.model_name, window.model_version) == ("toy", "1")
    assert (window.rows_in, window.rows_quarantined, window.rows_out) == (3, 0, 3)
    assert window.window_start <= window.window_end
    stored = {
        name: project.store.profiles("toy", "online", name)[-1].payload
        for name in ("window", "latency", "evaluation")
    }
    profile = Profile.model_validate(stored["window"])
    assert set(profile.columns) == {"temperature_c", "hot", "failure_probability"}
    temperature = profile.columns["temperature_c"]
    assert temperature.rows == 3 and temperature.moments.mean == pytest.approx(81.6666, 1e-3)
    assert profile.columns["hot"].counts[profile.columns["hot"].categories.index("True")] == 2
    latency = LatencyProfile.model_validate(stored["latency"])
    assert latency.steps["total"].count == 3
    assert {"featurize", "predict"} <= set(latency.steps)
    evaluation = WindowEvaluation.model_validate(stored["evaluation"])
    judged = {d.column: d.value for d in evaluation.drift if d.method != "null_rate"}
    assert judged == {"temperature_c": None, "hot": None, "failure_probability": None}  # 3 rows
    assert evaluation.shift is not None and evaluation.shift.chunk_size == 3
    raised = project.store.alerts(pipeline="toy")  # two extreme readings of three: a shift
    assert [(a.rule, a.run_id) for a in raised] == [("prediction_shift", window.id)]


def test_a_window_is_also_stored_after_flush_seconds(
    make_project: ProjectMaker, record: dict[str, object]
) -> None:
    project = make_project(serving="monitor_flush_requests = 1000\nmonitor_flush_seconds = 0.5")
    model = fitted_model(project.root, baselines=False)
    with running(create_app(project, model=model)) as url:
        assert httpx.post(f"{url}/predict", json=[record, record]).status_code == 200
        [window] = _online_runs(project.store, 1)

    assert (window.rows_in, window.rows_out) == (2, 2)
    assert project.store.profiles("toy", "online", "window") == []  # no baseline, no profile
    latency = project.store.profiles("toy", "online", "latency")[-1].payload
    assert LatencyProfile.model_validate(latency).steps["total"].count == 1


@pytest.fixture
def postgres_store() -> Iterator[URL]:
    """A PostgreSQL database for the project's run store."""
    with make_postgres_database("shipml_serving_store") as url:
        yield url


@pytest.mark.postgres
def test_a_window_that_cannot_be_stored_is_kept_and_stored_later(
    make_project: ProjectMaker, record: dict[str, object], postgres_store: URL
) -> None:
    store_url = postgres_store.render_as_string(hide_password=False)
    serving = f"{FLUSH_EVERY_3}\nreload_interval_seconds = 0.3"
    project = make_project(serving=serving, extra=f'[store]\nurl = "{store_url}"')
    with running(create_app(project, model=fitted_model(project.root))) as url:
        answers = [httpx.post(f"{url}/predict", json=record) for _ in range(3)]
        _online_runs(project.store, 1)
        with outage(postgres_store):
            answers += [httpx.post(f"{url}/predict", json=record) for _ in range(3)]
            time.sleep(1)  # the flush fails meanwhile
            readiness = httpx.get(f"{url}/ready")
        answers += [httpx.post(f"{url}/predict", json=record) for _ in range(3)]
        with RunStore(postgres_store) as store:
            windows = _online_runs(store, 3)

    assert [a.status_code for a in answers] == [200] * 9
    assert readiness.status_code == 503 and "store" in readiness.json()["problems"]
    assert [w.rows_in for w in windows] == [3, 3, 3]
    with RunStore(postgres_store) as store:
        assert len(store.profiles("toy", "online", "latency")) == 3
