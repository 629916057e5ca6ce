"""No secret reaches a log line: the API key, the webhook URL, the databases' passwords.

A whole `shipml serve` session is read line by line: requests with the key (in the header
as it should be, in the query string as it should not), a training run beside it, an
online window whose alert goes to a webhook that fails every delivery.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from _server import free_port, process, shipml_command, wait_until_ready
from _webhook import SECRET_PATH, failing_webhook
from sqlalchemy import URL

from _postgres import make_postgres_database
from _projects import write_project
from shipml.alerting.sinks import AlertNotice, WebhookSink

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KEY = "k3y-of-the-serve-session-0123456789"
PASSWORD = "hunter2-db-password"  # trust authentication accepts it, and it must never show


def _with_password(url: URL) -> str:
    return url.set(password=PASSWORD).render_as_string(hide_password=False)


def test_a_serve_session_and_its_failing_webhook_log_no_secret(
    tmp_path: Path, record: dict[str, object]
) -> None:
    directory = write_project(tmp_path)
    with (
        make_postgres_database("shipml_secrets_registry") as registry,
        make_postgres_database("shipml_secrets_store") as store,
        failing_webhook() as webhook,
    ):
        environment = {
            "SHIPML_TRACKING__URI": _with_password(registry),
            "SHIPML_STORE__URL": _with_password(store),
            "SHIPML_SERVING__API_KEY": KEY,
            "SHIPML_ALERTS__WEBHOOK_URL": webhook.url,
            "SHIPML_SERVING__MONITOR_FLUSH_REQUESTS": "3",
            "NO_COLOR": "1",
        }
        trained = subprocess.run(
            shipml_command("train", "--project", str(directory), "--promote", "champion"),
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, **environment},
        )
        assert trained.returncode == 0, trained.stderr[-3000:]
        port, log = free_port(), tmp_path / "serve.log"
        url = f"http://127.0.0.1:{port}"
        serve = shipml_command("serve", "--project", str(directory), "--port", str(port))
        with process(serve, log, environment) as server:
            wait_until_ready(url, server, log)
            good = {"Authorization": f"Bearer {KEY}"}
            answers = [
                httpx.post(f"{url}/predict", json=record, headers=good),
                httpx.post(f"{url}/predict?api_key={KEY}", json=record),
                httpx.post(f"{url}/predict", json=record, headers={"Authorization": KEY + "x"}),
                httpx.get(f"{url}/ready?token={KEY}&verbose"),
                httpx.get(f"{url}/model", headers=good),
                httpx.get(f"{url}/openapi.json"),
            ]
            # Two more readings, far hotter than in training: the window of three raises a
            # prediction-shift alert, which goes to the webhook and fails.
            for temperature in (140.0, 145.0):
                hot = {**record, "temperature_c": temperature}
                answers.append(httpx.post(f"{url}/predict", json=hot, headers=good))
            deadline = time.monotonic() + 120
            while "alert webhook failed" not in log.read_text():
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.2)

    lines = log.read_text().splitlines() + (trained.stdout + trained.stderr).splitlines()
    assert [a.status_code for a in answers] == [200, 401, 401, 200, 200, 200, 200, 200]
    assert webhook.posts == 4, "one delivery and three retries"
    for secret in (KEY, SECRET_PATH, "SECRETTOKEN123", PASSWORD):
        assert not [line for line in lines if secret in line], secret
    text = "\n".join(lines)
    assert "POST /predict?api_key=*** HTTP/1.1" in text
    assert "GET /ready?token=***&*** HTTP/1.1" in text
    assert f"HTTP Request: POST http://127.0.0.1:{webhook.server_address[1]}/***" in text


def test_a_failing_webhook_logs_no_secret_even_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    notice = AlertNotice(
        pipeline="toy",
        rule="prediction_shift",
        column=None,
        severity="warning",
        message="the predictions moved",
    )
    with failing_webhook() as webhook:
        sink = WebhookSink(webhook.url, timeout_seconds=5, retries=1, backoff_seconds=0.01)
        sink.send(notice)
        assert sink.flush(30)

    assert webhook.posts == 2
    assert "SECRETTOKEN123" not in caplog.text
    assert "alert webhook failed for prediction_shift after 2 attempt(s): HTTP 500" in (caplog.text)
    assert "HTTP Request: POST http://127.0.0.1:" in caplog.text
