"""Fixtures shared by the whole suite: a real PostgreSQL database and a trained toy project."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from _postgres import PostgresUnavailable, create_postgres_database, drop_postgres_database
from _projects import write_project

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # 2 shared cores: no oversubscribed BLAS threads


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A new PostgreSQL database on 127.0.0.1:5432 for this session; fails (never skips)."""
    try:
        url = create_postgres_database()
    except PostgresUnavailable as error:
        message = str(error)
    else:
        yield url.render_as_string(hide_password=False)
        drop_postgres_database(url)
        return
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy project, trained once with real MLflow, its model promoted to champion.

    Tests that change the project work on a copy (its model stays in this registry).
    """
    from shipml.project.project import Project
    from shipml.project.training import train

    directory = write_project(tmp_path_factory.mktemp("trained"))
    project = Project.load(directory)
    outcome = train(project)
    project.tracker.promote(outcome.model.version)
    return directory
