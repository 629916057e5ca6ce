"""Creating the SQLAlchemy engine: SQLite set up for several processes at once, PostgreSQL with
connect and statement timeouts, and database faults turned into one line naming the store.

A PostgreSQL server that stops answering (frozen, or a network that drops packets) would block
a statement forever: the server's own `statement_timeout` cannot fire in a frozen server, so
the client also gives up a little later and closes the connection.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import psycopg.errors
from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shipml.errors import StoreError, StoreUnavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_STATEMENT_TIMEOUT = 30.0
ANSWER_GRACE_SECONDS = 2.0  # past the statement timeout, before the client gives up on a server
FRESH_FILE_SECONDS = 10.0  # an empty store file younger than this is being created, not lost
_WRITE_OPTION = "shipml_write"
_SQLITE_HEADER = b"SQLite format 3\x00"
# psycopg raises this private OperationalError subclass when `Connection.wait` times out.
_WAIT_TIMEOUT: type[BaseException] = getattr(psycopg.errors, "_WaitTimeout", TimeoutError)
_READ_ONLY = "the store file or its directory is read-only; shipml writes to both"
_HINTS = (
    ("readonly database", _READ_ONLY),
    (
        "file is not a database",
        "the store file is damaged: restore it from a backup, or move it away to start an "
        "empty store (its run history is then lost)",
    ),
    (
        "malformed",
        "the store file is damaged: restore it from a backup, or move it away to start an "
        "empty store (its run history is then lost)",
    ),
    ("statement timeout", "raise [store] statement_timeout if the store is slow but working"),
    ("did not answer within", "the server is frozen or overloaded ([store] statement_timeout)"),
    ("timeout expired", "the server does not answer ([store] connect_timeout)"),
    ("Connection refused", "is the server running?"),
)


def create_store_engine(
    url: str | URL,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
    **options: Any,
) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGIN,
    PostgreSQL connect and statement timeouts (in seconds). `options` go to `create_engine`.

    A SQLite file that is empty or not a database is refused, never recreated.
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "postgresql":
            # A pooled connection may have died with a server restart: test it before use.
            options.setdefault("pool_pre_ping", True)
        engine = create_engine(
            parsed,
            connect_args=_postgres_timeouts(parsed, connect_timeout, statement_timeout),
            **options,
        )
    except NoSuchModuleError:
        raise StoreError(
            f"invalid store URL {display_url(url)!r}: unknown database kind; expected e.g. "
            "'postgresql+psycopg://user@host/db' or 'sqlite:///shipml.db'"
        ) from None
    except ArgumentError as error:
        raise StoreError(f"invalid store URL {display_url(url)!r}: {error}") from None
    except ImportError as error:
        raise StoreError(
            f"the database driver of the store {display_url(url)} is not installed ({error})"
        ) from None
    if engine.dialect.name == "sqlite":
        _refuse_unusable_sqlite_file(parsed)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    elif engine.dialect.driver == "psycopg":
        deadline = statement_timeout + ANSWER_GRACE_SECONDS

        def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            connection = _AnsweringConnection.connect(*cargs, **cparams)
            connection.answer_timeout = deadline
            return connection

        event.listen(engine, "do_connect", connect)
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine (same pool), marked so that its transactions are write transactions."""
    return engine.execution_options(**{_WRITE_OPTION: True})


def display_url(url: str | URL) -> str:
    """`url` with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return str(url)


@contextmanager
def store_faults(url: str | URL, doing: str = "use") -> Iterator[None]:
    """Turn a database fault (unreachable, frozen, read-only, damaged) into `StoreUnavailable`.

    The message is one line: the store (password masked), the database's own reason, and
    what to do. Errors that are about the data (an integrity error) pass through.
    """
    try:
        yield
    except (OperationalError, InterfaceError, PoolTimeout) as error:
        raise StoreUnavailable(_unavailable(url, doing, error)) from None
    except DatabaseError as error:
        if type(error) is not DatabaseError:  # IntegrityError, ProgrammingError, ...: not faults
            raise
        raise StoreUnavailable(_unavailable(url, doing, error)) from None


class _AnsweringConnection(psycopg.Connection[Any]):
    """A psycopg connection that gives up on a server that has not answered in time.

    The abandoned request may still be answered later, so the connection is closed: SQLAlchemy
    then sees a disconnect and drops it from the pool.
    """

    answer_timeout: float | None = None

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        """Wait for the server like psycopg does, at most `answer_timeout` seconds."""
        limit = self.answer_timeout if timeout is None else timeout
        try:
            return super().wait(gen, interval=interval, timeout=limit)
        except _WAIT_TIMEOUT:
            self.close()
            raise psycopg.OperationalError(
                f"the server did not answer within {limit:g} s; connection closed"
            ) from None


def _postgres_timeouts(
    url: URL, connect_timeout: float, statement_timeout: float
) -> dict[str, Any]:
    """libpq connection parameters for the timeouts; values in the URL itself take precedence."""
    if url.get_backend_name() != "postgresql":
        return {}
    milliseconds = max(1, round(statement_timeout * 1000))
    options = " ".join(
        part
        for part in (str(url.query.get("options", "")), f"-c statement_timeout={milliseconds}")
        if part
    )
    found: dict[str, Any] = {"options": options}
    if "connect_timeout" not in url.query:
        found["connect_timeout"] = max(2, math.ceil(connect_timeout))  # libpq's minimum is 2
    return found


def _refuse_unusable_sqlite_file(url: URL) -> None:
    """Raise when the database file is there but empty, a directory, or not SQLite."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    file = Path(database)
    if file.is_dir():
        raise StoreUnavailable(
            f"cannot open the store at {display_url(url)}: {file} is a directory"
        )
    try:
        with file.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
            age = time.time() - os.fstat(handle.fileno()).st_mtime
    except FileNotFoundError:
        return  # a new store
    except OSError as error:
        raise StoreUnavailable(
            f"cannot open the store at {display_url(url)}: {error.strerror}"
        ) from None
    if not header and age < FRESH_FILE_SECONDS:
        return  # another process is creating the store: SQLite writes the header soon
    if not header:
        raise StoreUnavailable(
            f"the store file {file} is empty (0 bytes): its run history is gone, and shipml "
            "does not start a new store over it; restore it from a backup, or delete it to "
            "start an empty store"
        )
    if header != _SQLITE_HEADER:
        raise StoreUnavailable(
            f"the store file {file} is not an SQLite database (damaged or overwritten); "
            "restore it from a backup, or move it away to start an empty store (its run "
            "history is then lost)"
        )


def _unavailable(url: str | URL, doing: str, error: Exception) -> str:
    """'cannot use the store at URL: reason (hint)', one line."""
    reason = str(getattr(error, "orig", None) or error).strip()
    reason = " ".join(reason.splitlines()[0].split()) if reason else type(error).__name__
    hints = [hint for marker, hint in _HINTS if marker.lower() in reason.lower()]
    hints += _sqlite_file_hints(url) if "unable to open database file" in reason else []
    shown = f"{reason} ({hints[0]})" if hints else reason
    return f"cannot {doing} the store at {display_url(url)}: {shown}"


def _sqlite_file_hints(url: str | URL) -> list[str]:
    """Why SQLite may be unable to open a store file: a missing or read-only directory."""
    database = make_url(url).database
    if make_url(url).get_backend_name() != "sqlite" or not database:
        return []
    file = Path(database)
    if not file.parent.is_dir():
        return [f"the directory {file.parent} does not exist"]
    if not os.access(file.parent, os.W_OK) or (file.exists() and not os.access(file, os.W_OK)):
        return [_READ_ONLY]
    return []


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _on_sqlite_begin) instead of pysqlite's legacy mode.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL (it stays so), waiting out another process doing the same.

    Two processes opening a fresh store both switch it; the loser gets "database is locked"
    at once, without SQLite's busy handler, so it waits here, as long as the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _on_sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock up front. A deferred transaction that reads and then
    # writes fails at once with "database is locked" when another process wrote in between;
    # busy_timeout only helps when the lock is requested at BEGIN.
    immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
