"""The shared logging setup of the CLI and the server."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import pty
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shipml.logs import logging_config, request_context
from shipml.scaffold import init_project


@pytest.fixture
def configured() -> Iterator[None]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logging.config.dictConfig(logging_config(json_lines=True))
    yield
    root.handlers, root.level = saved[0], saved[1]


def test_log_lines_follow_stderr_when_it_is_swapped_and_closed(
    configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", swapped)
    logging.getLogger("shipml.test").info("during")
    line = json.loads(swapped.getvalue())
    assert (line["message"], line["level"], line["request_id"]) == ("during", "info", "-")

    swapped.close()  # as Typer's CliRunner does when its invoke ends
    after = io.StringIO()
    monkeypatch.setattr(sys, "stderr", after)
    logging.getLogger("shipml.test").warning("after")
    assert json.loads(after.getvalue())["message"] == "after"
    assert "Logging error" not in after.getvalue()


@pytest.fixture
def background() -> Iterator[logging.Handler]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logging.config.dictConfig(logging_config(json_lines=True, background=True))
    yield root.handlers[0]
    root.handlers[0].close()
    root.handlers, root.level = saved[0], saved[1]


def test_a_server_writes_its_lines_from_a_thread_in_order_with_their_request_ids(
    background: logging.Handler, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _ThreadRecordingStream()
    monkeypatch.setattr(sys, "stderr", written)
    log = logging.getLogger("shipml.test")
    values = ["first"]
    for number in range(200):
        with request_context(f"request-{number}"):
            log.info("line %d of %s", number, values)
    values.append("changed after logging")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("it failed")

    background.close()  # as logging.shutdown() does at exit: what is queued gets written
    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    assert [line["message"] for line in lines[:200]] == [
        f"line {n} of ['first']" for n in range(200)
    ]
    assert [line["request_id"] for line in lines[:200]] == [f"request-{n}" for n in range(200)]
    assert lines[200]["message"] == "it failed"
    assert "ValueError: boom" in lines[200]["exception"]
    assert written.threads == {"shipml-log-writer"}, "the logging thread never writes"


class _ThreadRecordingStream(io.StringIO):
    """A stream that notes which threads wrote to it."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[str] = set()

    def write(self, text: str) -> int:
        self.threads.add(threading.current_thread().name)
        return super().write(text)


def test_mlflow_speaks_on_the_terminal_only_when_asked(tmp_path: Path) -> None:
    """`shipml train` prints its own result; MLflow's prints and warnings only at -v."""
    project = init_project(tmp_path / "churn", "churn")

    quiet = _on_a_terminal(["shipml", "train"], project)
    verbose = subprocess.run(
        ["shipml", "-v", "train"], cwd=project, env=_environment(), capture_output=True,
        text=True, timeout=240, check=True,
    )  # fmt: skip

    assert "trained churn v1" in quiet
    assert "mlflow" not in quiet.lower() and "Warning" not in quiet
    assert "Registered model 'churn' already exists" in verbose.stderr
    assert "Created version '2' of model 'churn'" in verbose.stderr
    assert "trained churn v2" in verbose.stdout


def _environment() -> dict[str, str]:
    """This Python's scripts (`shipml`) first on PATH."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _on_a_terminal(command: list[str], cwd: Path) -> str:
    """Run `command` with stdout and stderr on a pseudo-terminal, as a user would; its output."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        command, cwd=cwd, env=_environment(), stdin=subprocess.DEVNULL, stdout=terminal,
        stderr=terminal, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=240) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")
