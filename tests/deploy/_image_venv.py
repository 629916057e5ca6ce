"""shipml installed the way the container image installs it, and processes run in it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
IMAGE_SCRIPT = DEPLOY / "image" / "shipml-image"
STARTUP_SECONDS = 300  # imports and MLflow take minutes when the machine is busy
# Variables of this test process that would leak into the virtualenv's processes: with them,
# its Python would import shipml from the checkout, not the installed wheel.
_LEAKS = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")


def venv_environment(venv: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment like a container's: the virtualenv's scripts first on PATH."""
    environment = {k: v for k, v in os.environ.items() if k not in _LEAKS}
    environment["PATH"] = f"{venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="1",
        DVC_NO_ANALYTICS="1",
        PYTHON=sys.executable,
    )
    return {**environment, **(extra or {})}


def image_step(*arguments: str, env: Mapping[str, str], timeout: float = 600) -> str:
    """Run one step of deploy/image/shipml-image; its output (fails with it on an error)."""
    return run(["sh", str(IMAGE_SCRIPT), *arguments], env=env, timeout=timeout)


def run(
    command: list[str], *, env: Mapping[str, str], cwd: Path | None = None, timeout: float = 600
) -> str:
    """Run `command`; its stdout and stderr together (fails with them when it fails)."""
    completed = subprocess.run(
        command, env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, (
        f"{' '.join(command)} exited {completed.returncode}:\n{output}"
    )
    return output


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def background(
    command: list[str], log: Path, *, env: Mapping[str, str], cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends (output into `log`); then SIGTERM, or kill."""
    with log.open("wb") as output:
        child = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=dict(env), cwd=cwd
        )
        try:
            yield child
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(30)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait(10)


def wait_for_http(url: str, child: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until GET `url` answers 200; fail with the process's log if it dies or stalls."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if child.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{url} never answered 200; the log:\n{log.read_text()[-4000:]}")
