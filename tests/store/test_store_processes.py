"""Real processes: a killed run stays recognisable, and writers share one SQLite file."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shipml.store import RunStore

from .conftest import BACKENDS

WORKER = Path(__file__).with_name("_store_worker.py")
TIMEOUT_S = 120


def _worker(*arguments: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *arguments],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(worker: subprocess.Popen[str]) -> tuple[str, str]:
    """The worker's output once it ends; killed if it outlives the timeout."""
    try:
        return worker.communicate(timeout=TIMEOUT_S)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()


@pytest.fixture(params=BACKENDS)
def url_text(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL as text (for a command line), on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shipml.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_a_run_whose_process_was_killed_stays_running(url_text: str, tmp_path: Path) -> None:
    worker = _worker("crash", url_text, cwd=tmp_path)
    out, err = _wait(worker)
    assert worker.returncode == -signal.SIGKILL, err
    crashed_id = out.strip()

    with RunStore(url_text) as store:
        latest = store.latest_window_run("crashy", store.run(crashed_id).run.window_start)
        assert latest is not None and latest.id == crashed_id
        assert latest.status == "running" and latest.finished_at is None

        store.finish_run(crashed_id, status="failed", error="abandoned: process died")
        retry = store.start_run("crashy", "batch", window_start=latest.window_start)
        statuses = {run.id: (run.status, run.attempt) for run in store.runs(pipeline="crashy")}
    assert statuses == {crashed_id: ("failed", 1), retry: ("running", 2)}


def test_two_processes_write_to_one_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    go = tmp_path / "go"
    runs_each = 10
    workers = [_worker("write", url, name, str(runs_each), str(go), cwd=tmp_path) for name in "ab"]
    for worker in workers:  # both imported everything: start them at the same moment
        assert worker.stdout is not None and worker.stdout.readline() == "ready\n"
    go.touch()
    for worker in workers:
        _, err = _wait(worker)
        assert worker.returncode == 0, err

    with RunStore(url) as store:
        runs = store.runs(limit=100)
        assert len(runs) == 2 * runs_each
        assert {run.status for run in runs} == {"succeeded"}
        assert all(store.run(run.id).quarantined_rows == 2 for run in runs)
        (alert,) = store.alerts()
        assert alert.occurrences == 2 * runs_each
        assert len(store.profiles("a", "batch", "features")) == runs_each
        assert len(store.profiles("b", "batch", "features")) == runs_each


def _open(url: str, barrier: Any, outcomes: Any) -> None:
    barrier.wait()  # every process opens the fresh file at the same moment
    try:
        RunStore(url).close()
        outcomes.put("opened")
    except Exception as error:  # reported to the test, which names it
        outcomes.put(f"{type(error).__name__}: {error}")


def test_processes_that_open_one_fresh_sqlite_store_at_once_all_open_it(tmp_path: Path) -> None:
    # Each switches the new file to WAL; the loser used to get "database is locked" at once.
    context = multiprocessing.get_context("fork")
    for attempt in range(40):  # the race was lost about once in ten
        url = f"sqlite:///{tmp_path / f'fresh{attempt}.db'}"
        barrier, outcomes = context.Barrier(4), context.Queue()
        openers = [context.Process(target=_open, args=(url, barrier, outcomes)) for _ in range(4)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(TIMEOUT_S)
        assert [outcomes.get(timeout=5) for _ in openers] == ["opened"] * 4
