"""The schema comes from Alembic migrations shipped in the package and matches the ORM."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import URL, inspect, text
from sqlalchemy.exc import IntegrityError

from _postgres import make_postgres_database
from shipml.store import RunStore, StoreError, StoreUnavailable
from shipml.store._migrate import MIGRATIONS_DIR, VERSION_TABLE, head_revision
from shipml.store.schema import Base

TABLES = {"runs", "step_runs", "validation_reports", "quarantined_rows", "profiles", "alerts"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path):
    """A database that has never been touched, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    request.getfixturevalue("postgres_url")  # fails clearly when the server is down
    with make_postgres_database("shipml_fresh") as url:
        yield url


def test_opening_a_fresh_database_migrates_it_to_head(fresh_url: str | URL) -> None:
    store = RunStore(fresh_url, migrate_on_open=False)
    assert store.schema_revision() is None
    assert not TABLES & set(inspect(store.engine).get_table_names())

    store.migrate()

    assert store.schema_revision() == head_revision()
    assert TABLES | {VERSION_TABLE} <= set(inspect(store.engine).get_table_names())
    store.close()


def test_migrating_twice_changes_nothing(fresh_url: str | URL) -> None:
    with RunStore(fresh_url) as store:
        run_id = store.start_run("weather", "train")
        store.migrate()
        assert store.schema_revision() == head_revision()
        assert store.run(run_id).run.status == "running"


def test_migrated_schema_matches_the_orm_metadata(store: RunStore) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "version_table": VERSION_TABLE,
                "compare_type": True,
                # the database is shared with other tests' tables (e.g. SQL sinks)
                "include_name": _shipml_tables,
            },
        )
        with warnings.catch_warnings():
            # SQLite cannot reflect the expression index; the next test checks it directly.
            warnings.filterwarnings("ignore", message=".*expression-based index")
            differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _shipml_tables(name: str | None, kind: str, parent_names: dict[str, str | None]) -> bool:
    if kind == "table":
        return name in Base.metadata.tables
    return parent_names.get("table_name") in Base.metadata.tables if kind == "index" else True


def test_at_most_one_open_alert_per_key_is_enforced_by_the_database(store: RunStore) -> None:
    insert = text(
        'INSERT INTO alerts (pipeline, rule, "column", severity, status, message, '
        "opened_at, last_seen_at, occurrences) "
        "VALUES ('p', 'psi', NULL, 'warning', :status, 'm', :now, :now, 1)"
    )
    now = "2024-01-01 00:00:00"
    with store.engine.begin() as connection:
        connection.execute(insert, {"status": "closed", "now": now})
        connection.execute(insert, {"status": "closed", "now": now})
        connection.execute(insert, {"status": "open", "now": now})
    with pytest.raises(IntegrityError), store.engine.begin() as connection:
        connection.execute(insert, {"status": "open", "now": now})


def test_migrations_live_inside_the_package() -> None:
    package_dir = Path(__file__).parents[2] / "src" / "shipml" / "store"
    assert MIGRATIONS_DIR.parent.resolve() == package_dir.resolve()
    shipped = {path.name for path in MIGRATIONS_DIR.rglob("*") if path.suffix in {".py", ".mako"}}
    assert {"env.py", "script.py.mako", "0001_initial_schema.py"} <= shipped


def test_store_for_project_creates_the_default_sqlite_file(tmp_path: Path) -> None:
    with RunStore.for_project(tmp_path) as store:
        store.start_run("weather", "train")
    assert (tmp_path / ".shipml" / "shipml.db").is_file()
    with RunStore.for_project(tmp_path) as reopened:
        assert [run.pipeline for run in reopened.runs()] == ["weather"]


def test_a_bad_url_is_a_one_line_error() -> None:
    with pytest.raises(StoreError, match="invalid store URL 'nonsense://'"):
        RunStore("nonsense://")


def test_an_unopenable_database_is_reported_as_unavailable(tmp_path: Path) -> None:
    missing_dir = tmp_path / "no" / "such" / "dir"
    with pytest.raises(StoreUnavailable, match="cannot open the store at sqlite:///"):
        RunStore(f"sqlite:///{missing_dir / 'shipml.db'}")
