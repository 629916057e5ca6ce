"""Fixtures for the source and sink tests: a throwaway PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the session.

    The tests fail (never skip) when the server on 127.0.0.1:5432 cannot be reached.
    """
    admin = create_engine(
        f"{_SERVER}/postgres", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    name = f"shipml_io_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL on 127.0.0.1:5432 is needed by these tests and is unreachable: "
            f"{str(error.orig).strip().splitlines()[0]}",
            pytrace=False,
        )
    try:
        yield f"{_SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
