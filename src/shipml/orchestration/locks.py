"""One batch window at a time per pipeline, across processes.

Two locks, taken in this order and held while a scheduler runs its due windows (and while
`shipml run` runs its windows):

- an exclusive `flock` on a file under `<project>/.shipml/`: schedulers on one machine;
  the kernel releases it when the holder dies, even by SIGKILL;
- when the run store is PostgreSQL, a session-level advisory lock keyed by the pipeline's
  name: schedulers on several machines sharing the store. PostgreSQL releases it when the
  holder's connection drops.

Whoever takes the lock closes the pipeline's batch runs still marked running: their process
died, or lost the store before it could record how they ended.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import IO

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from shipml.project.project import HOME, Project
from shipml.store import StoreUnavailable, create_store_engine, store_faults

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 0.5


class PipelineLock:
    """The cross-process lock that keeps two runs of one pipeline from overlapping."""

    def __init__(self, project: Project, *, poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
        store_url = project.settings.store.url
        assert store_url is not None  # the settings always resolve a store URL
        digest = hashlib.sha256(f"{store_url}\n{project.name}".encode()).hexdigest()[:12]
        self.path = project.root / HOME / f"schedule-{project.name}-{digest}.lock"
        self.project = project
        self.store_url = store_url
        self.key = advisory_key(project.name)
        self.poll_seconds = poll_seconds

    @contextmanager
    def held(self, stop: threading.Event) -> Iterator[bool]:
        """Wait for the lock; yield True once held, or False when `stop` was set first."""
        with ExitStack() as stack:
            file = stack.enter_context(open(self.path, "a+"))
            if not self._wait(lambda: _try_flock(file), stop, f"file lock {self.path}"):
                yield False
                return
            _write_pid(file)
            if make_url(self.store_url).get_backend_name() == "postgresql":
                connection = stack.enter_context(_dedicated_connection(self.project))
                locked = self._wait(lambda: _try_advisory(connection, self.key), stop, "pg lock")
                if not locked:
                    yield False
                    return
                stack.callback(_advisory_unlock, connection, self.key)
            _close_abandoned_runs(self.project)
            yield True

    def _wait(self, attempt: Callable[[], bool], stop: threading.Event, what: str) -> bool:
        """Retry `attempt` until it succeeds (True) or `stop` is set (False)."""
        if attempt():
            return True
        log.warning("another run of this pipeline holds the %s; waiting for it", what)
        while not stop.wait(self.poll_seconds):
            if attempt():
                return True
        return False


def advisory_key(pipeline: str) -> int:
    """The PostgreSQL advisory lock key (a signed 64-bit integer) of a pipeline's windows."""
    digest = hashlib.sha256(f"shipml.schedule/{pipeline}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_flock(file: IO[str]) -> bool:
    """Take the exclusive lock on `file` without waiting."""
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write_pid(file: IO[str]) -> None:
    """Leave the holder's process id in the lock file, for whoever wonders who holds it."""
    file.seek(0)
    file.truncate()
    file.write(f"{os.getpid()}\n")
    file.flush()


@contextmanager
def _dedicated_connection(project: Project) -> Iterator[Connection]:
    """A connection of its own to the store (an advisory lock belongs to its session)."""
    settings = project.settings.store
    assert settings.url is not None
    engine = create_store_engine(
        settings.url,
        connect_timeout=settings.connect_timeout.total_seconds(),
        statement_timeout=settings.statement_timeout.total_seconds(),
        poolclass=NullPool,
    )
    try:
        with store_faults(settings.url, "lock the pipeline in"):
            connection = engine.connect()
        try:
            yield connection
        finally:
            connection.close()
    finally:
        engine.dispose()


def _try_advisory(connection: Connection, key: int) -> bool:
    """Take the session-level advisory lock without waiting."""
    with store_faults(connection.engine.url, "lock the pipeline in"):
        locked = connection.execute(select(func.pg_try_advisory_lock(key))).scalar_one()
        connection.commit()
    return bool(locked)


def _advisory_unlock(connection: Connection, key: int) -> None:
    try:
        with store_faults(connection.engine.url, "unlock the pipeline in"):
            connection.execute(select(func.pg_advisory_unlock(key)))
            connection.commit()
    except StoreUnavailable as error:  # the lock ends with the lost session anyway
        log.info("%s; the server releases the lock with the session", error)


def _close_abandoned_runs(project: Project) -> None:
    """Mark failed the pipeline's batch runs that earlier holders of the lock left running."""
    closed = project.store.close_abandoned_runs(
        project.name,
        "was still marked running when the pipeline's lock was next taken (its process died, "
        "or lost the store before recording how the run ended)",
    )
    for run_id in closed:
        log.warning(
            "run %s of %s was abandoned by its process; marked failed", run_id, project.name
        )
