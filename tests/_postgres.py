"""Throwaway PostgreSQL databases for tests (usable from any conftest)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.exc import OperationalError

ADMIN_URL_VARIABLE = "SHIPML_TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class PostgresUnavailable(RuntimeError):
    """The test PostgreSQL server cannot be reached."""


def admin_url() -> URL:
    """URL of the server's `postgres` database (override with $SHIPML_TEST_POSTGRES_URL)."""
    return make_url(os.environ.get(ADMIN_URL_VARIABLE, DEFAULT_ADMIN_URL))


def create_postgres_database(prefix: str = "shipml_test") -> URL:
    """Create an empty database named `<prefix>_<random>` and return its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as error:
        shown = admin_url().render_as_string(hide_password=True)
        reason = str(error.orig).strip().splitlines()[0]
        raise PostgresUnavailable(
            f"PostgreSQL is not reachable at {shown} ({reason}); start the server "
            f"or point ${ADMIN_URL_VARIABLE} at one"
        ) from None
    finally:
        admin.dispose()
    return admin_url().set(database=name)


def drop_postgres_database(url: URL) -> None:
    """Drop the database of `url`, closing any connection still open to it."""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def make_postgres_database(prefix: str = "shipml_test") -> Iterator[URL]:
    """A fresh database for the duration of the `with` block."""
    url = create_postgres_database(prefix)
    try:
        yield url
    finally:
        drop_postgres_database(url)


def _admin_engine() -> Engine:
    return create_engine(
        admin_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
