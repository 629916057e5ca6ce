"""Store faults end in one line naming the store and the cause, within the timeouts.

PostgreSQL on a server of the test's own (stopped, frozen with SIGSTOP, restarted); SQLite
files that are read-only, empty or damaged. A store is never silently recreated.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from _pg_instance import PostgresInstance, postgres_instance
from shipml.store import RunStore, StoreUnavailable
from shipml.store._engine import ANSWER_GRACE_SECONDS, FRESH_FILE_SECONDS

SLACK_SECONDS = 3.0  # a loaded machine's delay on top of a timeout


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresInstance]:
    with postgres_instance() as instance:
        yield instance


@pytest.fixture
def live(server: PostgresInstance) -> Iterator[PostgresInstance]:
    """The server, answering at the start of the test and again after it."""
    server.thaw()
    if not server.running:
        server.start()
    yield server
    server.thaw()
    if not server.running:
        server.start()


def unavailable(call: object) -> tuple[str, float]:
    """The one-line message of the StoreUnavailable `call()` raises, and how long it took."""
    began = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        call()  # type: ignore[operator]
    message = str(caught.value)
    assert "\n" not in message
    return message, time.monotonic() - began


def test_a_stopped_server_is_named_with_its_password_masked(live: PostgresInstance) -> None:
    live.stop()
    url = live.url(password="s3cret")
    message, _ = unavailable(lambda: RunStore(url))
    shown = f"postgresql+psycopg://postgres:***@127.0.0.1:{live.port}/postgres"
    assert message.startswith(f"cannot open the store at {shown}: ")
    assert "Connection refused (is the server running?)" in message
    assert "s3cret" not in message


def test_a_frozen_server_is_given_up_on_after_the_connect_timeout(live: PostgresInstance) -> None:
    live.freeze()
    message, took = unavailable(lambda: RunStore(live.url(), connect_timeout=2))
    assert "timeout expired (the server does not answer ([store] connect_timeout))" in message
    assert took < 2 + SLACK_SECONDS


def test_a_server_frozen_while_in_use_is_given_up_on_within_the_timeouts(
    live: PostgresInstance,
) -> None:
    store = RunStore(live.url(), connect_timeout=2, statement_timeout=1)
    run_id = store.start_run("sensors", "batch")
    live.freeze()
    # The pooled connection's ping waits out the answer deadline, then a new one the
    # connect timeout.
    message, took = unavailable(lambda: store.finish_run(run_id, status="failed"))
    assert "the server does not answer ([store] connect_timeout)" in message
    assert took < 1 + ANSWER_GRACE_SECONDS + 2 + SLACK_SECONDS

    live.thaw()  # the store recovers: the abandoned connections were dropped from the pool
    assert store.finish_run(run_id, status="failed", error="store froze").status == "failed"
    store.close()


def test_a_statement_the_frozen_server_never_answers_is_given_up_on(
    live: PostgresInstance,
) -> None:
    store = RunStore(live.url(), connect_timeout=2, statement_timeout=1)
    with store.engine.connect() as connection:
        connection.execute(text("select 1"))
        live.freeze()
        began = time.monotonic()
        answer = f"the server did not answer within {1 + ANSWER_GRACE_SECONDS:g} s"
        with pytest.raises(OperationalError, match=answer):
            connection.execute(text("select 1"))
        assert time.monotonic() - began < 1 + ANSWER_GRACE_SECONDS + SLACK_SECONDS
        assert connection.invalidated  # never handed out again
    live.thaw()
    store.close()


def test_a_slow_statement_is_cancelled_by_the_server(live: PostgresInstance) -> None:
    store = RunStore(live.url(), statement_timeout=0.5)
    cancelled = pytest.raises(
        OperationalError, match="canceling statement due to statement timeout"
    )
    with cancelled, store.engine.connect() as connection:
        connection.execute(text("select pg_sleep(3)"))
    store.close()


def test_a_run_that_lost_its_store_is_closed_at_the_next_start(live: PostgresInstance) -> None:
    url = live.create_database("reconciled")
    store = RunStore(url, connect_timeout=2)
    lost = store.start_run("sensors", "batch")
    other = store.start_run("other", "batch")
    live.stop()
    message, _ = unavailable(lambda: store.finish_run(lost, status="failed"))
    assert message.startswith(f"cannot use the store at {url}: ")
    store.close()

    live.start()
    with RunStore(url) as restarted:
        reason = "was running when its store went away"
        assert restarted.close_abandoned_runs("sensors", reason) == [lost]
        run = restarted.run(lost).run
        assert (run.status, run.error) == ("failed", f"abandoned: attempt 1 {reason}")
        assert restarted.run(other).run.status == "running"  # another pipeline's


def stored(tmp_path: Path) -> Path:
    """A store file with one run in it."""
    file = tmp_path / "shipml.db"
    with RunStore(f"sqlite:///{file}") as store:
        store.start_run("sensors", "batch")
    return file


def checkpoint(file: Path) -> None:
    """Fold the store's write-ahead log into its file."""
    with RunStore(f"sqlite:///{file}") as store, store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def test_an_emptied_store_file_is_refused_not_recreated(tmp_path: Path) -> None:
    file = stored(tmp_path)
    file.write_bytes(b"")
    for leftover in tmp_path.glob("shipml.db-*"):
        leftover.unlink()
    old = time.time() - FRESH_FILE_SECONDS - 1
    os.utime(file, (old, old))

    message, _ = unavailable(lambda: RunStore(f"sqlite:///{file}"))
    assert message == (
        f"the store file {file} is empty (0 bytes): its run history is gone, and shipml does "
        "not start a new store over it; restore it from a backup, or delete it to start an "
        "empty store"
    )
    assert file.stat().st_size == 0


def test_a_store_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "shipml.db"
    file.write_text("run_id,status\n1,succeeded\n")
    message, _ = unavailable(lambda: RunStore(f"sqlite:///{file}"))
    assert message.startswith(f"the store file {file} is not an SQLite database (damaged")
    assert file.read_text() == "run_id,status\n1,succeeded\n"


def test_a_damaged_store_file_is_one_line_with_what_to_do(tmp_path: Path) -> None:
    file = stored(tmp_path)
    checkpoint(file)
    data = bytearray(file.read_bytes())
    data[100:] = bytes([0xA5]) * (len(data) - 100)  # the header survives, the pages do not
    file.write_bytes(bytes(data))

    message, _ = unavailable(lambda: RunStore(f"sqlite:///{file}").runs())
    assert message.startswith(f"cannot open the store at sqlite:///{file}: ")
    assert "restore it from a backup, or move it away to start an empty store" in message


@pytest.fixture
def read_only_directory(tmp_path: Path) -> Iterator[Path]:
    """A directory whose files cannot be written: a read-only tmpfs (as root), else chmod."""
    directory = tmp_path / "ro"
    directory.mkdir()
    if os.geteuid() != 0:
        yield directory
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(directory)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"root cannot be denied writes here: mount failed ({mounted.stderr!r})")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def make_read_only(directory: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True)
    else:
        for path in [*directory.iterdir(), directory]:
            path.chmod(0o555 if path.is_dir() else 0o444)


def test_a_read_only_store_is_one_line_saying_so(
    read_only_directory: Path,
) -> None:
    file = stored(read_only_directory)
    checkpoint(file)
    make_read_only(read_only_directory)

    message, _ = unavailable(lambda: RunStore(f"sqlite:///{file}").start_run("sensors", "batch"))
    assert message.startswith("cannot ")
    assert f"the store at sqlite:///{file}: " in message
    assert "(the store file or its directory is read-only; shipml writes to both)" in message
