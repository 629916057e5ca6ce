"""`shipml run` against a PostgreSQL store that is stopped, frozen, or lost in the middle of a run:
one line on stderr naming the store (password masked), exit 2, no traceback; a run that lost
its store is closed as failed at the next start.
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

from _pg_instance import PostgresInstance, postgres_instance

WINDOW = ["--start", "2026-11-27T10:00Z", "--end", "2026-11-27T10:15Z"]
NEXT_WINDOW = ["--start", "2026-11-27T10:15Z", "--end", "2026-11-27T10:30Z"]
# The toy project's featurize step, which first stops the store's server when asked to.
LOSING_STEP = """
import json, os, subprocess, threading, time

from contracts import Features, Reading
from shipml import Table, step
import steps


@step
def featurize(readings: Table[Reading]) -> Table[Features]:
    command = os.environ.get("TEST_STOP_STORE")
    if command:
        subprocess.run(json.loads(command), check=True, capture_output=True, timeout=60)
    store = os.environ.get("TEST_LOCK_PROFILES")
    if store:
        locked = threading.Event()
        threading.Thread(target=_lock_profiles, args=(store, locked), daemon=True).start()
        locked.wait(30)
    return steps.featurize(readings)


def _lock_profiles(url, locked):
    # Another session holds the profiles table for 6 s: the run's next store write waits.
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as connection:
        connection.execute(text("LOCK TABLE profiles IN ACCESS EXCLUSIVE MODE"))
        locked.set()
        time.sleep(6)
"""


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresInstance]:
    with postgres_instance() as instance:
        yield instance


@pytest.fixture
def project(trained_project: Path, tmp_path: Path, server: PostgresInstance) -> Path:
    """A copy of the trained toy project whose store is a new database on the test's server."""
    server.thaw()
    if not server.running:
        server.start()
    directory = tmp_path / "project"
    shutil.copytree(trained_project, directory, ignore=shutil.ignore_patterns("outputs"))
    database = f"store_{time.monotonic_ns()}"
    server.create_database(database)
    (directory / "shipml.toml").write_text(
        (directory / "shipml.toml").read_text()
        + f'\n[store]\nurl = "{server.url(database, password="s3cret")}"\n'
        'connect_timeout = "2s"\nstatement_timeout = "2s"\n'
    )
    return directory


def shipml(project: Path, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    variables = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **environment}
    return subprocess.run(
        [sys.executable, "-m", "shipml.cli", *arguments, "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=180,
        env=variables,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    # Besides the run's log lines (JSON, one a record), exactly one line: the error.
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith('{"time"')]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout and "s3cret" not in result.stderr
    return lines[0]


def test_a_stopped_store_fails_shipml_run_in_one_line(
    project: Path, server: PostgresInstance
) -> None:
    server.stop()
    line = one_line_error(shipml(project, "run", *WINDOW))
    assert f"store at postgresql+psycopg://postgres:***@127.0.0.1:{server.port}/store_" in line
    assert "Connection refused (is the server running?)" in line


def test_a_frozen_store_fails_shipml_run_within_its_timeout(
    project: Path, server: PostgresInstance
) -> None:
    server.freeze()
    began = time.monotonic()
    line = one_line_error(shipml(project, "run", *WINDOW))
    took = time.monotonic() - began
    assert "timeout expired (the server does not answer ([store] connect_timeout))" in line
    assert took < 30  # process start and imports, plus the 2 s timeout; it used to hang


def test_a_run_that_loses_its_store_is_closed_as_failed_at_the_next_start(
    project: Path, server: PostgresInstance
) -> None:
    (project / "losing.py").write_text(LOSING_STEP)
    pipeline = (project / "pipeline.py").read_text()
    steps = "from steps import featurize, predict, train"
    assert steps in pipeline
    replaced = "from losing import featurize\nfrom steps import predict, train"
    (project / "pipeline.py").write_text(pipeline.replace(steps, replaced))
    stop = [str(server.bin / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "-w", "stop"]
    if os.geteuid() == 0:
        stop = ["runuser", "-u", "postgres", "--", *stop]

    line = one_line_error(shipml(project, "run", *WINDOW, TEST_STOP_STORE=json.dumps(stop)))
    assert "store at postgresql+psycopg://postgres:***@" in line

    server.start()
    again = shipml(project, "run", *NEXT_WINDOW)
    assert again.returncode == 0, again.stderr
    runs = json.loads(shipml(project, "runs", "--json").stdout)
    assert [(run["kind"], run["status"]) for run in runs] == [
        ("batch", "succeeded"),
        ("batch", "failed"),
    ]
    assert runs[1]["window_start"].startswith("2026-11-27 10:00")
    assert runs[1]["error"].startswith(
        "abandoned: attempt 1 was still marked running when the pipeline's lock was next taken"
    )


def test_an_emptied_sqlite_store_fails_shipml_run_in_one_line(
    trained_project: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "project"
    shutil.copytree(trained_project, directory, ignore=shutil.ignore_patterns("outputs"))
    store = directory / ".shipml" / "shipml.db"
    for leftover in store.parent.glob("shipml.db*"):
        leftover.unlink()
    store.write_bytes(b"")
    old = time.time() - 60
    os.utime(store, (old, old))

    line = one_line_error(shipml(directory, "run", *WINDOW))
    assert line == (
        f"error: the store file {store} is empty (0 bytes): its run history is gone, and shipml "
        "does not start a new store over it; restore it from a backup, or delete it to start an "
        "empty store"
    )
    assert store.stat().st_size == 0


def test_a_run_whose_store_write_times_out_is_marked_failed_when_the_store_can_be_written(
    project: Path, server: PostgresInstance
) -> None:
    (project / "losing.py").write_text(LOSING_STEP)
    pipeline = (project / "pipeline.py").read_text()
    replaced = "from losing import featurize\nfrom steps import predict, train"
    (project / "pipeline.py").write_text(
        pipeline.replace("from steps import featurize, predict, train", replaced)
    )
    settings = (project / "shipml.toml").read_text()
    url = settings.split('url = "', 1)[1].split('"', 1)[0]

    result = shipml(project, "run", *WINDOW, TEST_LOCK_PROFILES=url)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    [run] = [
        r for r in json.loads(shipml(project, "runs", "--json").stdout) if r["kind"] == "batch"
    ]
    assert run["status"] == "failed"
    assert run["error"].startswith(
        "StoreUnavailable: cannot use the store at postgresql+psycopg://"
    )
    assert "canceling statement due to statement timeout" in run["error"]
