"""A PostgreSQL database that stops answering for a while (other databases are untouched)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, create_engine, text

from _postgres import admin_url


@contextmanager
def outage(url: URL) -> Iterator[None]:
    """Refuse new connections to `url`'s database and end the open ones, until the block ends."""
    _allow_connections(url, allow=False)
    try:
        yield
    finally:
        _allow_connections(url, allow=True)


def _allow_connections(url: URL, *, allow: bool) -> None:
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    name = url.database
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(
                f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allow).lower()}'
            )
            if not allow:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
    finally:
        admin.dispose()
