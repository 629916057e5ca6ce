"""Micro-batching: concurrent requests share one flow run, yet each gets exactly its own answer."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from _server import running
from _variants import toy_variant

from _projects import fitted_model
from shipml.logs import RequestIdFilter
from shipml.serving import create_app


@pytest.fixture(autouse=True)
def _request_ids_in_records(caplog: pytest.LogCaptureFixture) -> None:
    """Give caplog's handler the request-id filter the server's handlers have."""
    caplog.handler.addFilter(RequestIdFilter())
    caplog.set_level(logging.INFO)


def _records_of(request: int, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Request n sends 1 to 3 records, named after it; every fifth request has a bad one."""
    records = [
        {**record, "machine_id": f"M-{request}0{j}", "temperature_c": 40.0 + request + j}
        for j in range(request % 3 + 1)
    ]
    if request % 5 == 0:
        records[-1]["temperature_c"] = 500.0
    return records


async def _post_all(url: str, payloads: list[Any]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(payloads))
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        return await asyncio.gather(*(client.post("/predict", json=p) for p in payloads))


def _batches(metrics: str) -> tuple[float, float]:
    """(records scored, micro-batches) from the /metrics text."""
    total = re.search(r"^shipml_batch_records_sum (\S+)$", metrics, re.M)
    count = re.search(r"^shipml_batch_records_count (\S+)$", metrics, re.M)
    assert total is not None and count is not None
    return float(total.group(1)), float(count.group(1))


def test_concurrent_requests_are_batched_and_answered_each_with_its_own_rows(
    base_url: str, record: dict[str, Any]
) -> None:
    payloads = [_records_of(n, record) for n in range(40)]
    before = _batches(httpx.get(f"{base_url}/metrics").text)

    responses = asyncio.run(_post_all(base_url, payloads))

    for n, (sent, response) in enumerate(zip(payloads, responses, strict=True)):
        if n % 5 == 0:
            assert response.status_code == 422, response.text
            report = response.json()["report"]
            assert report["rows"] == len(sent) and report["invalid_rows"] == 1
            [failure] = report["failures"]
            assert failure["examples"] == [{"row": len(sent) - 1, "value": 500.0}]
        else:
            assert response.status_code == 200, response.text
            answered = [p["machine_id"] for p in response.json()["predictions"]]
            assert answered == [r["machine_id"] for r in sent]
    records, batches = _batches(httpx.get(f"{base_url}/metrics").text)
    assert records - before[0] == sum(len(p) for p in payloads)
    assert batches - before[1] < len(payloads), "some requests went through the flow together"


def test_a_step_that_raises_fails_only_the_request_that_made_it_raise(
    tmp_path: Path, record: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    unlucky = toy_variant(
        tmp_path,
        steps=(
            "    probability = model.predict_proba",
            "    if (features['temperature_c'] == 13.0).any():\n"
            "        raise ValueError('unlucky temperature')\n"
            "    probability = model.predict_proba",
        ),
    )
    payloads = [[{**record, "temperature_c": 13.0 if n == 7 else 50.0 + n}] for n in range(20)]
    with running(create_app(unlucky, model=fitted_model(tmp_path))) as url:
        responses = asyncio.run(_post_all(url, payloads))

    statuses = [r.status_code for r in responses]
    assert statuses == [500 if n == 7 else 200 for n in range(20)]
    failed = responses[7].json()
    assert failed["error"].startswith("the pipeline failed at step predict (ValueError)")
    logged = [r for r in caplog.records if r.getMessage().startswith("step predict failed")]
    assert [r.request_id for r in logged] == [failed["request_id"]]
    assert "unlucky temperature" in logged[0].getMessage()


def test_rows_are_still_matched_when_a_transform_changes_the_index(
    tmp_path: Path, record: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    reindexed = toy_variant(
        tmp_path,
        steps=(
            'return readings.assign(hot=readings["temperature_c"] > 80)',
            'return readings.assign(hot=readings["temperature_c"] > 80)'
            '.set_index("machine_id", drop=False)',
        ),
    )
    payloads = [[{**record, "machine_id": f"M-{n}"}] * (n % 2 + 1) for n in range(12)]
    with running(create_app(reindexed, model=fitted_model(tmp_path))) as url:
        responses = asyncio.run(_post_all(url, payloads))

    for n, response in enumerate(responses):
        assert response.status_code == 200
        assert [p["machine_id"] for p in response.json()["predictions"]] == [f"M-{n}"] * (n % 2 + 1)
    assert "a step renumbered the rows: scoring each request of a batch alone" in caplog.text


def _step_runs(metrics: str, step: str) -> float:
    found = re.search(
        rf'^shipml_step_duration_seconds_count\{{step="{step}"\}} (\S+)$', metrics, re.M
    )
    return float(found.group(1)) if found else 0.0


def test_records_that_break_the_input_contract_are_refused_without_running_a_step(
    base_url: str, record: dict[str, Any]
) -> None:
    httpx.post(f"{base_url}/predict", json=record)  # the steps have run once
    before = httpx.get(f"{base_url}/metrics").text
    refused = [[{**record, "temperature_c": 500.0 + n}] for n in range(8)]

    responses = asyncio.run(_post_all(base_url, refused))
    after = httpx.get(f"{base_url}/metrics").text

    assert [r.status_code for r in responses] == [422] * 8
    assert responses[3].json()["boundary"] == "featurize.input"
    assert responses[3].json()["report"]["failures"][0]["examples"] == [{"row": 0, "value": 503.0}]
    for step in ("featurize", "predict"):
        assert _step_runs(after, step) == _step_runs(before, step) > 0
