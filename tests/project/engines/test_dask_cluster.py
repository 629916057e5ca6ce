"""`shipml run --scheduler-address` on a cluster of separately started Dask processes.

A real deployment starts `dask scheduler` on one host and `dask worker` on others; here both
run on loopback as their own processes (not a LocalCluster inside the test), bounded by
timeouts and stopped at the end. The workers import shipml but not the project: the engine
ships its code, and they read the window's file and write its output parts themselves.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _dask_windows import WINDOW, assert_same_window, monitored_model
from distributed import Client
from typer.testing import CliRunner

from shipml.cli import app
from shipml.project.batch import run_window
from shipml.project.engines.dask import DaskEngine
from shipml.project.project import Project

DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 20


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `dask scheduler` and a `dask worker` (2 processes) on 127.0.0.1, stopped afterwards."""
    directory = tmp_path_factory.mktemp("dask-cluster")
    scheduler_file = directory / "scheduler.json"
    common = ["--no-dashboard", "--host", "127.0.0.1"]
    started = [
        _start([str(DASK), "scheduler", "--port", "0", "--scheduler-file", str(scheduler_file),
                *common], directory / "scheduler.log"),
    ]  # fmt: skip
    try:
        address = _address(scheduler_file, started[0])
        started.append(
            _start([str(DASK), "worker", address, "--nworkers", "2", "--nthreads", "1",
                    "--memory-limit", "1GB", "--local-directory", str(directory / "workers"),
                    "--death-timeout", "60", *common], directory / "worker.log")
        )  # fmt: skip
        with Client(address, timeout=START_TIMEOUT_S) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield address
    finally:
        for process in reversed(started):
            _stop(process)


def test_shipml_run_on_separately_started_processes_gives_the_local_window(
    trained_project: Path, tmp_path: Path, scheduler_address: str
) -> None:
    directory = tmp_path / "project"
    shutil.copytree(trained_project, directory, ignore=shutil.ignore_patterns("outputs"))
    project = Project.load(directory)
    local = run_window(project, WINDOW)

    ran = CliRunner().invoke(
        app,
        [
            "run", "--project", str(directory), "--force",
            "--start", WINDOW.start.isoformat(), "--end", WINDOW.end.isoformat(),
            "--engine", "dask", "--scheduler-address", scheduler_address,
        ],
    )  # fmt: skip

    assert ran.exit_code == 0, ran.output
    dask = project.store.latest_window_run(project.name, WINDOW.start)
    assert dask is not None and local.run_id is not None
    assert_same_window(project, local.run_id, dask.id)


def test_the_workers_read_and_write_the_window_themselves(
    tmp_path: Path, scheduler_address: str
) -> None:
    from _projects import write_project

    project = Project.load(write_project(tmp_path))
    model = monitored_model(project)
    with DaskEngine(scheduler_address=scheduler_address, partition_rows=20) as engine:
        outcome = run_window(project, WINDOW, model=model, engine=engine)
        client = engine.connect()
        workers = client.run(os.getpid)

    assert outcome.status == "succeeded" and outcome.rows_out == 75
    assert os.getpid() not in workers.values()
    parts = sorted(Path(str(outcome.output)).iterdir())
    assert len(parts) == 4 and all(p.name.startswith("part-") for p in parts)


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def _address(scheduler_file: Path, scheduler: subprocess.Popen[bytes]) -> str:
    """The scheduler's address, once it has written its file."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {scheduler.returncode}")
        address = _written_address(scheduler_file)
        if address is not None:
            return address
        time.sleep(0.2)
    raise TimeoutError(f"dask scheduler wrote no {scheduler_file} in {START_TIMEOUT_S} s")


def _written_address(scheduler_file: Path) -> str | None:
    """The address in the scheduler's file (None until it is there, whole)."""
    try:
        return str(json.loads(scheduler_file.read_text())["address"])
    except (OSError, ValueError, KeyError):
        return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)
