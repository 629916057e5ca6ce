"""Fixtures: the toy project served by a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from _registry import Registry
from _server import running

from _postgres import make_postgres_database
from _projects import SETTINGS, fitted_model, write_project
from shipml.project.project import Project
from shipml.serving import create_app

ProjectMaker = Callable[..., Project]


@pytest.fixture
def record() -> dict[str, object]:
    """A valid input record of the toy project."""
    return {"machine_id": "M-1", "ts": "2026-11-27T10:00:00Z", "temperature_c": 71.5}


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectMaker:
    """The toy project, with extra lines in its [serving] table."""

    def make(serving: str = "", extra: str = "") -> Project:
        settings = f"{SETTINGS}\n[serving]\n{serving}\n{extra}\n"
        return Project.load(write_project(tmp_path, settings=settings))

    return make


@pytest.fixture
def project(make_project: ProjectMaker) -> Project:
    """The toy project with default serving settings."""
    return make_project()


@pytest.fixture
def base_url(project: Project) -> Iterator[str]:
    """The toy project served with its fitted model (no registry)."""
    with running(create_app(project, model=fitted_model(project.root))) as url:
        yield url


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Two versions of the toy model logged to MLflow (PostgreSQL backend), champion on v1."""
    with make_postgres_database("shipml_serving_registry") as url:
        directory = tmp_path_factory.mktemp("registered")
        uri = url.render_as_string(hide_password=False)
        write_project(directory, settings=f'{SETTINGS}\n[tracking]\nuri = "{uri}"\n')
        project = Project.load(directory)
        model = fitted_model(directory).model
        example = pd.DataFrame({"temperature_c": [70.0]})
        first, second = [
            project.tracker.log_training(
                model=model, params={}, metrics={}, tags={}, input_example=example
            ).version
            for _ in range(2)
        ]
        project.tracker.promote(first)
        yield Registry(url, directory, (first, second))
