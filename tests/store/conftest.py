"""Store fixtures: every store test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, text

from shipml.store import RunStore
from shipml.store.schema import Base

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | URL:
    """The URL of an empty store database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shipml.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str | URL) -> Iterator[RunStore]:
    """An opened (migrated) store; PostgreSQL tables are emptied afterwards."""
    opened = RunStore(store_url)
    yield opened
    if opened.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        with opened.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    opened.close()
