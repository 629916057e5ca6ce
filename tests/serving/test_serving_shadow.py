"""A challenger beside the champion: scored in shadow off the response path, followed when
its alias moves, and dropped (counted) when its queue is full. Real MLflow on SQLite."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from _server import running

from _projects import fitted_model, write_project
from shipml.monitoring import ShadowProfile, ShadowProfiles
from shipml.project.history import load_windows
from shipml.project.project import Project
from shipml.project.report import render_report
from shipml.serving import create_app
from shipml.serving.routes import Parts

CHALLENGER = "challenger"


@pytest.fixture(scope="module")
def registered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """The toy project with two registered versions (SQLite registry) predicting differently."""
    directory = write_project(tmp_path_factory.mktemp("shadow"))
    project = Project.load(directory)
    fitted = fitted_model(directory)
    example = pd.DataFrame({"temperature_c": [70.0]})
    train = pd.read_csv(directory / "data" / "train.csv")
    from sklearn.linear_model import LogisticRegression

    other = LogisticRegression(C=1e-4).fit(train[["temperature_c"]], train["failed"])
    versions = [
        project.tracker.log_training(
            model=model,
            params={},
            metrics={},
            tags={},
            input_example=example,
            baseline=fitted.baseline,
        ).version
        for model in (fitted.model, other)
    ]
    yield directory, versions


def _project(
    directory: Path, monkeypatch: pytest.MonkeyPatch, champion: str, challenger: str | None
) -> Project:
    """The project with its aliases set (challenger None: no challenger alias)."""
    monkeypatch.setenv("SHIPML_SERVING__RELOAD_INTERVAL_SECONDS", "0.3")
    monkeypatch.setenv("SHIPML_SERVING__SHADOW_WAIT_MS", "20")
    project = Project.load(directory)
    project.tracker.promote(champion)
    if challenger is not None:
        project.tracker.promote(challenger, alias=CHALLENGER)
    else:
        from mlflow import MlflowClient

        client = MlflowClient(project.tracker.tracking_uri, project.tracker.tracking_uri)
        if CHALLENGER in client.get_registered_model("toy").aliases:
            client.delete_registered_model_alias("toy", CHALLENGER)
    return project


def _shadow_profiles(project: Project) -> list[ShadowProfile]:
    records = project.store.profiles("toy", "online", "shadow")
    return [
        found
        for record in records
        for found in ShadowProfiles.model_validate(record.payload).challengers
    ]


def _until(check: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not callable(check) or not check():
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.1)


def _metrics_once(url: str, line: str, within: float = 30) -> str:
    """/metrics once it shows `line` (or at the deadline)."""
    deadline = time.monotonic() + within
    while line not in (metrics := httpx.get(f"{url}/metrics").text):
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    return metrics


def test_the_challenger_scores_every_answered_request_and_the_window_compares_them(
    registered: tuple[Path, list[str]],
    record: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory, (first, _) = registered
    same = first  # the challenger alias may name the champion's version: they always agree
    project = _project(directory, monkeypatch, champion=first, challenger=same)
    app = create_app(project)
    parts: Parts = app.state.shipml
    with running(app) as url:
        answers = [httpx.post(f"{url}/predict", json=record) for _ in range(20)]
        model = httpx.get(f"{url}/model").json()
        assert parts.runtime.shadow is not None
        # the answers reach the shadow's queue after their bookkeeping: wait for all 20
        metrics = _metrics_once(url, 'shipml_shadow_records_total{outcome="agreed"} 20.0')

    assert {a.json()["model"]["version"] for a in answers} == {first}  # the champion answers
    assert model["version"] == first and model["alias"] == "champion"
    assert model["challenger"]["version"] == same
    assert model["challenger"]["shadow"] is True and model["challenger"]["canary_fraction"] == 0
    assert 'shipml_shadow_records_total{outcome="agreed"} 20.0' in metrics
    assert f'shipml_model_info{{alias="challenger",name="toy",version="{same}"}} 1.0' in metrics
    [shadow] = _shadow_profiles(project)  # stored with the online window when the server stopped
    assert (shadow.challenger_version, shadow.records, shadow.agreed) == (same, 20, 20)
    assert shadow.agreement_rate == 1.0 and shadow.dropped == 0
    assert shadow.champion is not None and shadow.challenger is not None
    assert shadow.champion.columns["failure_probability"].rows == 20
    assert shadow.challenger == shadow.champion  # the same model: the same distribution
    assert shadow.latency.steps["total"].count >= 1
    [window] = load_windows(project.store, "toy", kinds=["online"])
    assert window.shadow is not None and window.shadow.challengers == [shadow]
    page = render_report("toy", None, [window], [])
    assert "Challenger agreement" in page and "Champion and challenger predictions" in page
    assert f"<td>v{same}</td><td>20</td><td>100.0%</td><td>0</td><td>0</td>" in page


def test_a_full_shadow_queue_drops_records_and_counts_them(
    registered: tuple[Path, list[str]],
    record: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory, (first, other) = registered
    monkeypatch.setenv("SHIPML_SERVING__SHADOW_QUEUE_RECORDS", "1")  # a request of 2 never fits
    project = _project(directory, monkeypatch, champion=first, challenger=other)
    with running(create_app(project)) as url:
        answers = [httpx.post(f"{url}/predict", json=[record, record]) for _ in range(5)]
        dropped = _metric(url, "shipml_shadow_dropped_records_total")

    assert [a.status_code for a in answers] == [200] * 5  # the champion never notices
    assert dropped == 10.0
    [shadow] = [s for s in _shadow_profiles(project) if s.dropped]
    assert (shadow.challenger_version, shadow.dropped, shadow.records) == (other, 10, 0)


def test_serving_follows_the_challenger_alias_as_it_moves_and_goes(
    registered: tuple[Path, list[str]],
    record: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    directory, (first, other) = registered
    same = first
    project = _project(directory, monkeypatch, champion=first, challenger=None)
    with running(create_app(project)) as url:
        assert httpx.get(f"{url}/model").json()["challenger"] is None
        project.tracker.promote(same, alias=CHALLENGER)
        _until(lambda: _challenger(url) == same, "the new challenger was loaded")
        project.tracker.promote(other, alias=CHALLENGER)
        _until(lambda: _challenger(url) == other, "the moved challenger was loaded")
        answered = httpx.post(f"{url}/predict", json=record)
        _project(directory, monkeypatch, champion=first, challenger=None)
        _until(lambda: _challenger(url) is None, "the removed challenger was let go")
        metrics = httpx.get(f"{url}/metrics").text

    assert answered.json()["model"]["version"] == first
    assert f'shipml_model_info{{alias="challenger",name="toy",version="{same}"}} 0.0' in metrics
    assert f'shipml_model_info{{alias="challenger",name="toy",version="{other}"}} 0.0' in metrics
    assert 'shipml_model_reloads_total{outcome="succeeded"} 2.0' in metrics


def _challenger(url: str) -> str | None:
    challenger = httpx.get(f"{url}/model").json()["challenger"]
    return None if challenger is None else str(challenger["version"])


def _metric(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"/metrics has no {name}")
