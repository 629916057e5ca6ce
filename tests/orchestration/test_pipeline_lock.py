"""The cross-process lock that keeps two runs of one pipeline from overlapping."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from _scheduled import wait_for

from _postgres import make_postgres_database
from _projects import write_project
from shipml.orchestration.locks import PipelineLock
from shipml.project.project import Project

HOLD_LOCK = textwrap.dedent(
    """
    import sys, threading
    from shipml.orchestration.locks import PipelineLock
    from shipml.project.project import Project

    lock = PipelineLock(Project.load(sys.argv[1]))
    with lock.held(threading.Event()) as acquired:
        print("held" if acquired else "not held", flush=True)
        threading.Event().wait(60)
    """
)


def _holder(project_dir: Path) -> subprocess.Popen[str]:
    """Another process that takes the project's lock and keeps it."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(project_dir)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_the_lock_waits_for_another_process_and_is_freed_when_it_is_killed(
    tmp_path: Path,
) -> None:
    project = Project.load(write_project(tmp_path))
    holder = _holder(tmp_path)
    lock = PipelineLock(project, poll_seconds=0.05)
    acquired = threading.Event()

    def take() -> None:
        with lock.held(threading.Event()) as held:
            if held:
                acquired.set()

    waiter = threading.Thread(target=take)
    waiter.start()
    try:
        assert not acquired.wait(1.0)  # the other process holds it
        holder.send_signal(signal.SIGKILL)  # the kernel frees a dead holder's lock
        holder.wait(10)
        wait_for(acquired.is_set, 10, "the lock after its holder died")
    finally:
        holder.kill()
        waiter.join(10)
    assert lock.path.read_text().strip() == str(os.getpid())


def test_a_stop_request_ends_the_wait_without_the_lock(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))
    holder = _holder(tmp_path)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    try:
        with PipelineLock(project, poll_seconds=0.05).held(stop) as held:
            assert held is False
    finally:
        holder.kill()
        holder.wait(10)


def test_the_lock_is_taken_again_after_it_was_released(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))
    lock = PipelineLock(project)
    for _ in range(2):
        with lock.held(threading.Event()) as held:
            assert held is True


@pytest.mark.postgres
def test_on_postgresql_projects_in_two_directories_share_one_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with make_postgres_database() as url:
        monkeypatch.setenv("SHIPML_STORE__URL", url.render_as_string(hide_password=False))
        first = Project.load(write_project(tmp_path / "a"))
        second = Project.load(write_project(tmp_path / "b"))
        stop = threading.Event()
        with PipelineLock(first).held(stop) as held:
            assert held is True
            threading.Timer(0.5, stop.set).start()
            with PipelineLock(second, poll_seconds=0.05).held(stop) as also_held:
                assert also_held is False  # a different lock file, the same advisory lock
        with PipelineLock(second).held(threading.Event()) as held_after:
            assert held_after is True
        first.store.close()
        second.store.close()
