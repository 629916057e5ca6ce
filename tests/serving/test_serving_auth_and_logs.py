"""The API key (Bearer, from the environment) and the logs: request ids, JSON, no secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable

import httpx
import pytest
from _server import running

from _projects import fitted_model
from shipml.logs import JsonFormatter, RequestIdFilter, request_context
from shipml.project.project import Project
from shipml.serving import create_app

KEY = "k3y-that-must-never-be-logged-0123456789"
ProjectMaker = Callable[..., Project]


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, make_project: ProjectMaker) -> ProjectMaker:
    """Projects whose API key is set in SHIPML_SERVING__API_KEY."""
    monkeypatch.setenv("SHIPML_SERVING__API_KEY", KEY)
    return make_project


def test_predict_and_model_need_the_key_health_and_ready_do_not(
    keyed: ProjectMaker, record: dict[str, object]
) -> None:
    project = keyed()
    good = {"Authorization": f"Bearer {KEY}"}
    bad = {"Authorization": f"Bearer {KEY[:-1]}"}
    with running(create_app(project, model=fitted_model(project.root))) as url:
        missing = httpx.post(f"{url}/predict", json=record)
        wrong = httpx.post(f"{url}/predict", json=record, headers=bad)
        basic = httpx.post(f"{url}/predict", json=record, headers={"Authorization": f"Basic {KEY}"})
        right = httpx.post(f"{url}/predict", json=record, headers=good)
        model_without = httpx.get(f"{url}/model")
        model_with = httpx.get(f"{url}/model", headers=good)
        open_endpoints = [httpx.get(f"{url}{path}") for path in ("/health", "/ready", "/metrics")]

    for refused in (missing, wrong, basic, model_without):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "Authorization: Bearer <key>" in refused.json()["error"]
    assert right.status_code == model_with.status_code == 200
    assert [r.status_code for r in open_endpoints] == [200, 200, 200]


def test_metrics_can_require_the_key(keyed: ProjectMaker) -> None:
    project = keyed(serving="metrics_require_auth = true")
    with running(create_app(project, model=fitted_model(project.root))) as url:
        refused = httpx.get(f"{url}/metrics")
        allowed = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {KEY}"})

    assert refused.status_code == 401
    assert allowed.status_code == 200 and "shipml_requests_total" in allowed.text


def test_the_key_never_appears_in_logs_or_answers(
    keyed: ProjectMaker, record: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    project = keyed()
    answers = []
    with running(create_app(project, model=fitted_model(project.root))) as url:
        for token in (KEY, KEY + "x", "nonsense"):
            headers = {"Authorization": f"Bearer {token}"}
            answers.append(httpx.post(f"{url}/predict", json=record, headers=headers))
            answers.append(httpx.post(f"{url}/predict", content=b"{", headers=headers))
        answers.append(httpx.get(f"{url}/openapi.json"))

    assert [a.status_code for a in answers] == [200, 400, 401, 401, 401, 401, 200]
    assert caplog.records, "the server logged something"
    assert KEY not in caplog.text
    assert all(KEY not in answer.text for answer in answers)


def test_log_lines_are_json_with_the_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("shipml.test")
    logger.addHandler(handler)
    try:
        with request_context("req-42"):
            logger.warning("scored %d rows", 3)
        logger.warning("outside a request")
    finally:
        logger.removeHandler(handler)

    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["request_id"] == "req-42" and inside["message"] == "scored 3 rows"
    assert inside["logger"] == "shipml.test" and "time" in inside
    assert outside["request_id"] == "-"


def test_without_the_key_a_caller_learns_only_whether_the_server_is_ready(
    keyed: ProjectMaker, record: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A store that is down, behind a URL with a password: /ready has a problem to tell.
    monkeypatch.setenv("SHIPML_STORE__URL", "postgresql+psycopg://shipml:hunter2@127.0.0.1:1/runs")
    project = keyed()
    good = {"Authorization": f"Bearer {KEY}"}
    with running(create_app(project, model=fitted_model(project.root))) as url:
        anonymous = httpx.get(f"{url}/ready")
        authorized = httpx.get(f"{url}/ready", headers=good)
        document = httpx.get(f"{url}/openapi.json")
        answered = httpx.post(f"{url}/predict", json=record, headers=good).json()

    assert anonymous.status_code == authorized.status_code == 503
    assert anonymous.json() == {"ready": False}
    assert authorized.json()["model"] == {"name": "toy", "version": "1"}
    assert authorized.json()["problems"]["store"] == (
        "store unreachable at postgresql+psycopg://shipml:***@127.0.0.1:1/runs: "
        "connection refused by 127.0.0.1 port 1"
    )
    assert "hunter2" not in authorized.text
    # The docs show the contracts and a made-up answer, never one the model gave.
    predict = document.json()["paths"]["/predict"]["post"]
    shown = predict["responses"]["200"]["content"]["application/json"]["example"]
    [example_row] = shown["predictions"]
    [real_row] = answered["predictions"]
    assert example_row["failure_probability"] == 0.5 != real_row["failure_probability"]
    assert "hunter2" not in document.text and "127.0.0.1:1" not in document.text
