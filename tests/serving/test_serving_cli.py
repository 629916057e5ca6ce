"""`shipml serve` as a user runs it: a process, several workers, JSON logs, one line on failure."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from _registry import Registry
from _server import free_port, process, shipml_command, wait_until_ready

from shipml.project.project import Project

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KEY = "cli-k3y-never-in-the-log-9876"


def test_several_workers_share_their_metrics_and_log_json_with_request_ids(
    registry: Registry, record: dict[str, object], tmp_path: Path
) -> None:
    registry.project(alias_to=registry.versions[0])
    port, log, metrics_dir = free_port(), tmp_path / "server.log", tmp_path / "metrics"
    metrics_dir.mkdir()
    command = shipml_command(
        "serve", "--project", str(registry.directory), "--port", str(port), "--workers", "2"
    )
    environment = {"SHIPML_SERVING__API_KEY": KEY, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    url = f"http://127.0.0.1:{port}"
    with process(command, log, environment) as server:
        wait_until_ready(url, server, log)
        authorized = {"Authorization": f"Bearer {KEY}"}
        answers: list[httpx.Response] = []
        deadline = time.monotonic() + 60
        # Which worker accepts a connection is the kernel's choice: send concurrent rounds
        # until both have answered (one round nearly always does it; at least one round,
        # since a worker may write its metric files as it starts).
        while not answers or (len(_workers(metrics_dir)) < 2 and time.monotonic() < deadline):
            with ThreadPoolExecutor(8) as pool:
                round_ = pool.map(
                    lambda _: httpx.post(f"{url}/predict", json=record, headers=authorized),
                    range(16),
                )
                answers += list(round_)
        scrapes = [httpx.get(f"{url}/metrics").text for _ in range(4)]
        workers = _workers(metrics_dir)

    assert {a.status_code for a in answers} == {200}
    assert len(workers) == 2, "both workers recorded metrics"
    sent = len(answers)
    assert [_answered(text) for text in scrapes] == [sent] * 4, "each scrape adds up both workers"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    request_ids = {line["request_id"] for line in lines if "POST /predict" in line["message"]}
    assert request_ids == {a.headers["x-request-id"] for a in answers}
    assert KEY not in log.read_text()


def test_metrics_added_up_over_two_workers_count_every_request(
    registry: Registry, record: dict[str, object], tmp_path: Path
) -> None:
    registry.project(alias_to=registry.versions[0])
    port, log, metrics_dir = free_port(), tmp_path / "server.log", tmp_path / "metrics"
    metrics_dir.mkdir()
    command = shipml_command(
        "serve", "--project", str(registry.directory), "--port", str(port), "--workers", "2"
    )
    url = f"http://127.0.0.1:{port}"
    invalid = {**record, "temperature_c": 999.0}  # above the contract's bound
    bodies = [invalid if number % 4 == 0 else record for number in range(48)]
    with process(command, log, {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}) as server:
        wait_until_ready(url, server, log)
        _wait_for_both_workers(url, record, metrics_dir)
        before = _counted(httpx.get(f"{url}/metrics").text)
        # One connection per request, opened together: each worker has a socket of its own
        # and the kernel spreads the connections over both.
        with ThreadPoolExecutor(16) as pool:
            statuses = list(
                pool.map(lambda body: httpx.post(f"{url}/predict", json=body).status_code, bodies)
            )
        after = [_counted(httpx.get(f"{url}/metrics").text) for _ in range(4)]

    assert statuses.count(200) == 36 and statuses.count(422) == 12
    expected = {
        "answered 200": before["answered 200"] + 36,
        "answered 422": before["answered 422"] + 12,
        "timed": before["timed"] + 48,
        "rejected records": before["rejected records"] + 12,
    }
    assert after == [expected] * 4, "every scrape adds up both workers' counts of every request"


def _wait_for_both_workers(url: str, record: dict[str, object], metrics_dir: Path) -> None:
    """Send requests until both workers have counted one (each worker starts on its own)."""
    deadline = time.monotonic() + 120
    while len(_workers(metrics_dir)) < 2:
        assert time.monotonic() < deadline, "the second worker never answered"
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: httpx.post(f"{url}/predict", json=record), range(16)))


def _counted(metrics: str) -> dict[str, float]:
    """What /metrics says of /predict: requests by status, timed requests, rejected rows."""

    def value(pattern: str) -> float:
        found = re.findall(pattern + r" (\S+)$", metrics, re.M)
        return sum(float(number) for number in found)

    predict = 'endpoint="/predict"'
    return {
        "answered 200": value(rf'^shipml_requests_total\{{{predict},status="200"\}}'),
        "answered 422": value(rf'^shipml_requests_total\{{{predict},status="422"\}}'),
        "timed": value(rf"^shipml_request_duration_seconds_count\{{{predict}\}}"),
        "rejected records": value(r"^shipml_validation_failures_total\{[^}]*\}"),
    }


def test_access_lines_can_be_turned_off(
    registry: Registry, record: dict[str, object], tmp_path: Path
) -> None:
    registry.project(alias_to=registry.versions[0])
    port, log = free_port(), tmp_path / "server.log"
    command = shipml_command("serve", "--project", str(registry.directory), "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    with process(command, log, {"SHIPML_SERVING__ACCESS_LOG": "false"}) as server:
        wait_until_ready(url, server, log)
        answer = httpx.post(f"{url}/predict", json=record)

    assert answer.status_code == 200
    messages = [json.loads(line)["message"] for line in log.read_text().splitlines()]
    assert any("Application startup complete" in message for message in messages)
    assert not any("POST /predict" in message for message in messages)


def test_serve_fails_fast_with_one_line_when_there_is_no_model(
    registry: Registry, tmp_path: Path
) -> None:
    command = shipml_command("serve", "--project", str(registry.directory), "--port", "1")
    environment = {"SHIPML_MODEL__ALIAS": "nobody", "NO_COLOR": "1"}

    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=180, env={**os.environ, **environment}
    )

    assert finished.returncode == 2
    assert (
        finished.stderr.strip()
        .splitlines()[-1]
        .startswith("error: cannot serve toy@nobody: no version of model 'toy' has alias 'nobody'")
    )


@pytest.fixture
def hung_database() -> Iterator[str]:
    """A PostgreSQL URL whose server accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{listener.getsockname()[1]}/registry"


def test_serve_fails_fast_when_the_registry_does_not_answer(
    registry: Registry, hung_database: str
) -> None:
    # In a process of its own: MLflow keeps waiting on the hung database, holding a lock
    # that every later MLflow call in the same process would wait for.
    command = shipml_command("serve", "--project", str(registry.directory), "--port", "1")
    environment = {
        "SHIPML_TRACKING__URI": hung_database,
        "SHIPML_SERVING__REGISTRY_TIMEOUT_SECONDS": "2",
        "NO_COLOR": "1",
    }
    started = time.monotonic()

    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=120, env={**os.environ, **environment}
    )

    assert time.monotonic() - started < 60
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines()[-1] == (
        f"error: the model registry at {hung_database} did not answer within 2 s; "
        "check [tracking] uri and that the registry is up"
    )


def _workers(metrics_dir: Path) -> set[str]:
    """The process ids of the workers that wrote counters to the multiprocess directory."""
    return {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}


def _answered(metrics: str) -> float:
    """shipml_requests_total of /predict answered 200, from a /metrics text."""
    found = re.search(
        r'^shipml_requests_total\{endpoint="/predict",status="200"\} (\S+)$', metrics, re.M
    )
    assert found is not None
    return float(found.group(1))


def test_serve_says_in_one_line_that_the_registry_is_unreachable(project: Project) -> None:
    port = free_port()  # nobody listens there
    uri = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{port}/registry"
    command = shipml_command("serve", "--project", str(project.root), "--port", "1")
    environment = {"SHIPML_TRACKING__URI": uri, "NO_COLOR": "1"}

    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=180, env={**os.environ, **environment}
    )

    assert finished.returncode == 2
    assert (finished.stdout + finished.stderr).strip().splitlines() == [
        f"error: registry unreachable at postgresql+psycopg://postgres:***@127.0.0.1:{port}"
        f"/registry: connection refused by 127.0.0.1 port {port}"
    ]
