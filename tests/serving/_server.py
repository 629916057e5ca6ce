"""Real servers for the tests: uvicorn on 127.0.0.1, in a thread or in another process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

STARTUP_SECONDS = 300  # imports and MLflow take minutes when the machine is busy


@contextmanager
def running(app: FastAPI, **options: Any) -> Iterator[str]:
    """Serve `app` with uvicorn (and its `options`) on a free port in a thread; yield its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # A long keep-alive: see _fitted_server.py (a starved client must not meet a closing socket).
    config = uvicorn.Config(
        app, log_config=None, timeout_graceful_shutdown=10, timeout_keep_alive=60, **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        listener.close()


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def process(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` (its stdout and stderr into `log`); stop it with SIGINT afterwards."""
    with log.open("wb") as output:
        child = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        try:
            yield child
        finally:
            child.send_signal(2)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(10)


def wait_until_ready(base_url: str, child: subprocess.Popen[bytes], log: Path) -> None:
    """Wait for GET /ready to answer 200; fail with the server's log if it dies or stalls."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if child.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"the server did not get ready; its log:\n{log.read_text()[-4000:]}")


def shipml_command(*arguments: str) -> list[str]:
    """`shipml ...` run by this interpreter."""
    return [sys.executable, "-c", "from shipml.cli import app; app()", *arguments]
