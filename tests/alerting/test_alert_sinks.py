"""Alert sinks: a JSON log line per alert, and a webhook that retries but never blocks."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from pydantic import SecretStr

from _http_server import Reply, http_server
from shipml.alerting.sinks import (
    IDLE_SECONDS,
    AlertNotice,
    LogSink,
    WebhookSink,
)
from shipml.config import AlertsSettings
from shipml.monitoring import MonitoringError

SECRET_PATH = "/hooks/T000/B000/s3cr3t-token"

NOTICE = AlertNotice(
    pipeline="toy",
    rule="prediction_shift",
    column="failure_probability",
    severity="critical",
    message="mean of 'failure_probability' is 0.31, above 0.22",
    value=0.31,
    threshold=0.22,
    alert_id=7,
)


def test_the_log_sink_writes_one_json_line_at_the_alert_severity(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="shipml.alerts"):
        LogSink().send(NOTICE)

    (record,) = caplog.records
    assert record.name == "shipml.alerts"
    assert record.levelno == logging.CRITICAL
    line = json.loads(record.getMessage())
    assert line["event"] == "alert"
    assert line["rule"] == "prediction_shift"
    assert line["column"] == "failure_probability"
    assert line["value"] == 0.31


def test_the_webhook_posts_slack_text_and_the_structured_fields() -> None:
    with http_server(Reply(200)) as server:
        sink = WebhookSink(server.url + SECRET_PATH, timeout_seconds=2)
        sink.send(NOTICE)
        assert sink.flush(timeout=5)

    ((method, path, body),) = server.requests
    assert (method, path) == ("POST", SECRET_PATH)
    sent = json.loads(body)
    assert sent["text"].startswith(
        "[shipml] CRITICAL toy: prediction_shift on 'failure_probability'"
    )
    assert sent["severity"] == "critical"
    assert sent["threshold"] == 0.22
    assert sent["alert_id"] == 7


def test_the_webhook_retries_a_server_error_until_it_succeeds() -> None:
    with http_server(Reply(500), Reply(503), Reply(200)) as server:
        sink = WebhookSink(server.url, retries=3, backoff_seconds=0.01)
        sink.send(NOTICE)
        assert sink.flush(timeout=5)

    assert len(server.requests) == 3


def test_the_webhook_retries_after_a_timeout() -> None:
    with http_server(Reply(200, delay_seconds=1.0), Reply(200)) as server:
        sink = WebhookSink(server.url, timeout_seconds=0.2, retries=1, backoff_seconds=0.01)
        sink.send(NOTICE)
        assert sink.flush(timeout=5)

    assert len(server.requests) == 2


def test_a_failing_webhook_is_logged_without_its_url_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with http_server(Reply(500)) as server, caplog.at_level(logging.ERROR):
        sink = WebhookSink(server.url + SECRET_PATH, retries=2, backoff_seconds=0.01)
        sink.send(NOTICE)
        assert sink.flush(timeout=5)

    assert len(server.requests) == 3
    assert "after 3 attempt(s): HTTP 500" in caplog.text
    assert "s3cr3t" not in caplog.text
    assert "s3cr3t" not in repr(sink)


def test_a_client_error_is_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    with http_server(Reply(404)) as server, caplog.at_level(logging.ERROR):
        sink = WebhookSink(server.url, retries=3, backoff_seconds=0.01)
        sink.send(NOTICE)
        assert sink.flush(timeout=5)

    assert len(server.requests) == 1
    assert "HTTP 404" in caplog.text


def test_an_unreachable_webhook_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with caplog.at_level(logging.ERROR):
        sink = WebhookSink(f"http://127.0.0.1:{port}/hook", retries=1, backoff_seconds=0.01)
        sink.send(NOTICE)
        assert sink.flush(timeout=5)

    assert "ConnectError" in caplog.text


def test_sending_never_waits_for_a_hanging_endpoint(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        with http_server(Reply(200, delay_seconds=2.0)) as server:
            sink = WebhookSink(server.url, timeout_seconds=1, retries=0, max_queued=5)
            started = time.perf_counter()
            for _ in range(20):
                sink.send(NOTICE)
            elapsed = time.perf_counter() - started

            assert elapsed < 0.5
            assert not sink.flush(timeout=0.1)  # still busy with the first request
        assert sink.flush(timeout=10)  # the server is gone: the rest fail fast

    assert "alert webhook queue is full" in caplog.text


def test_the_webhook_thread_ends_when_idle_and_restarts_for_the_next_alert() -> None:
    with http_server(Reply(200)) as server:
        sink = WebhookSink(server.url)
        sink.send(NOTICE)
        assert sink.flush(timeout=5)
        time.sleep(IDLE_SECONDS + 0.5)
        idle = [t for t in threading.enumerate() if t.name == "shipml-alert-webhook"]
        sink.send(NOTICE)
        assert sink.flush(timeout=5)

    assert idle == []
    assert len(server.requests) == 2


@pytest.mark.slow
def test_alerts_still_queued_are_delivered_before_the_process_exits() -> None:
    script = textwrap.dedent(
        """
        import sys
        from shipml.alerting.sinks import AlertNotice, WebhookSink

        notice = AlertNotice(
            pipeline="toy", rule="drift.psi", column="x", severity="warning", message="m"
        )
        WebhookSink(sys.argv[1], timeout_seconds=5, backoff_seconds=0.5).send(notice)
        """
    )
    with http_server(Reply(500), Reply(200)) as server:  # the retry comes after exit began
        subprocess.run([sys.executable, "-c", script, server.url], check=True, timeout=60)

    assert len(server.requests) == 2


def test_a_webhook_url_must_be_http() -> None:
    with pytest.raises(MonitoringError, match="must start with http:// or https://"):
        WebhookSink("hooks.slack.com/services/x")


def test_settings_give_the_log_sink_and_the_webhook_only_when_its_url_is_set() -> None:
    assert [type(s) for s in AlertsSettings().sinks()] == [LogSink]

    configured = AlertsSettings(
        webhook_url=SecretStr("https://hooks.example.com/x"), webhook_retries=1
    )
    sinks = configured.sinks()
    assert [type(s) for s in sinks] == [LogSink, WebhookSink]
