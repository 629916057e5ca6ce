"""Creating the SQLAlchemy engine, with SQLite set up for several processes at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError

from shipml.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE_OPTION = "shipml_write"


def create_store_engine(url: str | URL) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGIN."""
    try:
        engine = create_engine(url)
    except ArgumentError as error:
        raise StoreError(f"invalid store URL {str(url)!r}: {error}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
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


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _on_sqlite_begin) instead of pysqlite's legacy mode.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock up front. A deferred transaction that reads and then
    # writes fails at once with "database is locked" when another process wrote in between;
    # busy_timeout only helps when the lock is requested at BEGIN.
    immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
