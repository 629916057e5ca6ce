"""A webhook that is down neither holds a finishing process for long nor loses its alerts:
exit waits at most `exit_wait_seconds`, and what was not delivered is kept in the run store
and sent by the next run."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from _failing import run, windows, write_inputs
from _http_server import Reply, http_server
from shipml.alerting import WINDOW_FAILED, deliver_before_exit
from shipml.alerting.sinks import AlertNotice, WebhookSink
from shipml.project.project import Project

NOTICE = AlertNotice(
    pipeline="toy", rule="window_failed", column=None, severity="critical", message="boom"
)


def closed_port_url() -> str:
    """A loopback URL nobody listens on (connection refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def test_exit_waits_no_longer_than_the_setting_and_keeps_what_is_left() -> None:
    kept: list[tuple[AlertNotice, str]] = []
    with http_server(Reply(200, delay_seconds=10)) as server:  # a webhook that hangs
        sink = WebhookSink(
            server.url,
            timeout_seconds=5,
            retries=3,
            exit_wait_seconds=0.5,
            keep=lambda notice, reason: kept.append((notice, reason)),
        )
        sink.send(NOTICE)
        started = time.monotonic()

        deliver_before_exit([sink])

        waited = time.monotonic() - started
    assert waited < 2  # not the ~24 s the timeouts and retries could take
    assert [(notice.rule, reason) for notice, reason in kept] == [
        ("window_failed", "not delivered before the process exited")
    ]


@pytest.mark.slow
def test_a_process_whose_webhook_hangs_exits_within_the_bound() -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from shipml.alerting.sinks import AlertNotice, WebhookSink

        def keep(notice, reason):
            with open(sys.argv[2], "a") as file:
                file.write(json.dumps({"rule": notice.rule, "reason": reason}) + "\\n")

        notice = AlertNotice(
            pipeline="toy", rule="window_failed", column=None, severity="critical", message="m"
        )
        WebhookSink(sys.argv[1], timeout_seconds=5, exit_wait_seconds=1, keep=keep).send(notice)
        """
    )
    kept = Path(f"/tmp/shipml-kept-{time.monotonic_ns()}.jsonl")
    with http_server(Reply(200, delay_seconds=30)) as server:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-c", script, server.url, str(kept)], timeout=60, check=True
        )
        elapsed = time.monotonic() - started
    lines = [json.loads(line) for line in kept.read_text().splitlines()]
    kept.unlink()
    assert elapsed < 15  # startup plus at most 1 s of waiting, not 20+ s of retries
    assert lines == [{"rule": "window_failed", "reason": "not delivered before the process exited"}]


def test_an_alert_the_webhook_refused_is_kept_and_sent_by_the_next_run(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = windows(0, 2)
    write_inputs(project, [first, second], broken=[first])
    monkeypatch.setenv("SHIPML_ALERTS__WEBHOOK_URL", closed_port_url())
    monkeypatch.setenv("SHIPML_ALERTS__WEBHOOK_RETRIES", "0")

    assert run(project, [first]) == 1

    assert Project.load(project).store.undelivered_count("toy") == 1
    with http_server(Reply(200)) as server:
        monkeypatch.setenv("SHIPML_ALERTS__WEBHOOK_URL", server.url + "/hook")
        assert run(project, [second]) == 0
        server.wait_for(1)
    [(method, _, body)] = server.requests
    sent = json.loads(body)
    assert (method, sent["rule"], sent["window_start"]) == (
        "POST",
        WINDOW_FAILED,
        "2026-11-27T10:00:00Z",
    )
    assert Project.load(project).store.undelivered_count("toy") == 0
