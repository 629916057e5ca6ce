"""POST /predict over HTTP: predictions in the output contract, and every kind of bad input."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from _server import running
from _variants import toy_variant
from fastapi import FastAPI

from _projects import fitted_model
from shipml.project.project import Project
from shipml.serving import create_app


def test_one_record_gets_one_prediction_with_the_model_and_request_id(
    base_url: str, record: dict[str, object]
) -> None:
    response = httpx.post(f"{base_url}/predict", json=record)

    assert response.status_code == 200
    body = response.json()
    assert body["model"] == {"name": "toy", "version": "1"}
    assert body["request_id"] == response.headers["x-request-id"]
    [prediction] = body["predictions"]
    assert prediction["machine_id"] == "M-1"
    assert prediction["ts"] == "2026-11-27T10:00:00Z"
    assert 0 <= prediction["failure_probability"] <= 1


def test_a_list_gets_one_prediction_per_record_in_order(
    base_url: str, record: dict[str, object]
) -> None:
    temperatures = [20.0, 140.0, 60.0, 120.0]
    records = [{**record, "machine_id": f"M-{t:.0f}", "temperature_c": t} for t in temperatures]

    predictions = httpx.post(f"{base_url}/predict", json=records).json()["predictions"]

    assert [p["machine_id"] for p in predictions] == ["M-20", "M-140", "M-60", "M-120"]
    probabilities = [p["failure_probability"] for p in predictions]
    assert probabilities[0] < probabilities[2] < probabilities[3] < probabilities[1]


def test_an_incoming_request_id_is_kept_and_a_malformed_one_replaced(
    base_url: str, record: dict[str, object]
) -> None:
    kept = httpx.post(f"{base_url}/predict", json=record, headers={"X-Request-ID": "abc-123"})
    replaced = httpx.post(f"{base_url}/predict", json=record, headers={"X-Request-ID": "a b\tc"})

    assert kept.headers["x-request-id"] == kept.json()["request_id"] == "abc-123"
    assert len(replaced.headers["x-request-id"]) == 32


def test_invalid_records_get_422_with_the_contract_report(
    base_url: str, record: dict[str, object]
) -> None:
    records = [record, {**record, "temperature_c": 999.0}, {**record, "machine_id": "X"}]

    response = httpx.post(f"{base_url}/predict", json=records)

    assert response.status_code == 422
    body = response.json()
    assert body["boundary"] == "featurize.input"
    assert body["error"] == "2 of 3 records break the contract Reading at featurize.input"
    failures = {(f["column"], f["rule"]): f["examples"] for f in body["report"]["failures"]}
    assert failures == {
        ("temperature_c", "less_than_equal"): [{"row": 1, "value": 999.0}],
        ("machine_id", "string_pattern_mismatch"): [{"row": 2, "value": "X"}],
    }


def test_a_renamed_column_is_diagnosed(base_url: str, record: dict[str, object]) -> None:
    renamed = {"machine_id": "M-1", "ts": record["ts"], "temp_c": 71.5}

    body = httpx.post(f"{base_url}/predict", json=renamed).json()

    [diagnosis] = body["report"]["diagnoses"]
    assert (diagnosis["kind"], diagnosis["column"]) == ("renamed_column", "temperature_c")
    assert diagnosis["details"]["candidate"] == "temp_c"


def test_american_dates_are_diagnosed_as_a_date_format(
    base_url: str, record: dict[str, object]
) -> None:
    dates = ["11/27/2026 10:00", "11/28/2026 10:00", "12/13/2026 10:00", "12/30/2026 10:00"]
    records = [{**record, "ts": date} for date in dates]

    body = httpx.post(f"{base_url}/predict", json=records).json()

    kinds = {(d["kind"], d["column"]) for d in body["report"]["diagnoses"]}
    assert ("date_format", "ts") in kinds


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b'{"machine_id": ', 400, "malformed JSON"),
        (b"", 400, "empty request body"),
        (b'{"temperature_c": NaN}', 400, "NaN is not valid JSON"),
        (b"\xff\xfe{", 400, "malformed JSON"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "malformed JSON"),
        (b'"a string"', 422, "got a string"),
        (b"[]", 422, "at least one record"),
        (b'[{"machine_id": "M-1"}, 7]', 422, "record 1 is a number"),
    ],
)
def test_bad_bodies_get_a_client_error_naming_the_problem(
    base_url: str, body: bytes, status: int, message: str
) -> None:
    response = httpx.post(f"{base_url}/predict", content=body)

    assert response.status_code == status
    assert message in response.json()["error"]
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_limits_on_body_size_answer_413_and_on_record_count_422(
    make_project: Callable[..., Project], record: dict[str, object]
) -> None:
    project = make_project(serving="max_records = 3\nmax_body_bytes = 2000")
    with running(create_app(project, model=fitted_model(project.root))) as url:
        too_many = httpx.post(f"{url}/predict", json=[record] * 4)
        declared = httpx.post(f"{url}/predict", content=b"[" + b" " * 3000 + b"]")
        chunks = [b"[", b" " * 1500, b" " * 1500, b"]"]
        streamed = httpx.post(f"{url}/predict", content=iter(chunks))
        at_the_limit = httpx.post(f"{url}/predict", json=[record] * 3)

    assert too_many.status_code == 422
    assert too_many.json()["error"] == (
        "4 records in one request, above the limit of 3 (serving.max_records)"
    )
    assert declared.status_code == streamed.status_code == 413
    assert "above the limit of 2000 bytes" in declared.json()["error"]
    assert streamed.json()["limit"] == 2000
    assert "chunked" in streamed.request.headers.get("transfer-encoding", "")
    assert at_the_limit.status_code == 200


def test_missing_values_in_the_output_are_null(tmp_path: Path, record: dict[str, object]) -> None:
    project = toy_variant(
        tmp_path,
        contracts=(
            "    ts: datetime\n    failure_probability",
            "    ts: datetime | None\n    failure_probability",
        ),
        steps=(  # no time stamp for the machines that are not hot
            'return features[["machine_id", "ts"]]',
            'return features[["machine_id"]].assign(ts=features["ts"].where(features["hot"]))',
        ),
    )
    with running(create_app(project, model=fitted_model(tmp_path))) as url:
        response = httpx.post(f"{url}/predict", json=[record, {**record, "temperature_c": 99.0}])

    assert response.status_code == 200, response.text
    assert [p["ts"] for p in response.json()["predictions"]] == [None, "2026-11-27T10:00:00Z"]


def test_health_ready_and_model_describe_the_server(base_url: str) -> None:
    assert httpx.get(f"{base_url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{base_url}/ready")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "model": {"name": "toy", "version": "1"}, "problems": {}}
    model = httpx.get(f"{base_url}/model").json()
    assert model["name"] == "toy" and model["version"] == "1" and model["alias"] == "champion"
    assert model["trained_at"] == "2026-11-27T10:00:00+00:00"
    assert {"data_version", "git_commit"} <= set(model)


def test_the_app_works_mounted_in_another_app(project: Project, record: dict[str, object]) -> None:
    outer = FastAPI()
    outer.mount("/ml", create_app(project, model=fitted_model(project.root)))
    with running(outer) as url:  # a mounted app's lifespan does not run: the first request
        answered = httpx.post(f"{url}/ml/predict", json=record)  # starts the background work
        deadline = time.monotonic() + 20
        while (ready := httpx.get(f"{url}/ml/ready")).status_code != 200:
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.1)
        metrics = httpx.get(f"{url}/ml/metrics").text

    assert answered.status_code == 200 and answered.json()["predictions"][0]["machine_id"] == "M-1"
    assert 'shipml_requests_total{endpoint="/predict",status="200"} 1.0' in metrics


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            b'{"machine_id": "M-1\\ud800", "ts": "2026-11-27T10:00:00Z", "temperature_c": 1}',
            "machine_id",
        ),
        (b'[{"machine_id": "M-1"}, {"\\udfff": 1}]', "\\udfff"),
        (b'{"machine_id": "M-1", "tags": ["a", {"k": "\\uDBFF"}]}', "tags[1].k"),
    ],
)
def test_a_lone_surrogate_is_a_422_naming_the_field(base_url: str, body: bytes, field: str) -> None:
    response = httpx.post(f"{base_url}/predict", content=body)

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert f"field '{field}': a lone UTF-16 surrogate" in response.json()["error"]


def test_a_surrogate_pair_is_a_character_like_any_other(
    base_url: str, record: dict[str, object]
) -> None:
    smiling = {**record, "comment": "\U0001f600"}  # sent as the escaped pair "\ud83d\ude00"
    body = json.dumps(smiling).encode()
    assert b"\\ud83d\\ude00" in body

    response = httpx.post(f"{base_url}/predict", content=body)

    assert response.status_code == 200, response.text


def test_a_client_gone_mid_body_is_counted_499_and_logged_at_info(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"[" * 100
        )
        time.sleep(0.5)  # the server reads what came, and waits for the rest
    deadline = time.monotonic() + 10
    while 'status="499"' not in (metrics := httpx.get(f"{base_url}/metrics").text):
        assert time.monotonic() < deadline, metrics
        time.sleep(0.1)

    assert 'shipml_requests_total{endpoint="/predict",status="499"} 1.0' in metrics
    gone = [r for r in caplog.records if "disconnected before sending the whole" in r.message]
    assert [r.levelname for r in gone] == ["INFO"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
