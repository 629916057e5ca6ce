"""A toy project trained once per test session (MLflow registry, champion alias)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from _scheduled import PAUSABLE_STEPS, scheduled_copy

from _projects import write_project
from shipml.project.project import Project
from shipml.project.training import train


@pytest.fixture(scope="session")
def trained_toy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The toy project with a registered champion model; copy it, never change it."""
    directory = tmp_path_factory.mktemp("trained") / "toy"
    directory.mkdir()
    write_project(directory)
    (directory / "steps.py").write_text(PAUSABLE_STEPS.lstrip())
    project = Project.load(directory)
    outcome = train(project)
    project.tracker.promote(outcome.model.version)
    project.store.close()
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def toy(trained_toy: Path, tmp_path: Path) -> Path:
    """A fresh copy of the trained toy project (15-minute windows, two windows of input)."""
    return Path(shutil.copytree(trained_toy, tmp_path / "toy"))


@pytest.fixture
def scheduled_toy(trained_toy: Path, tmp_path: Path) -> Path:
    """A fresh copy of the trained toy project with 2-second windows (no input yet)."""
    return scheduled_copy(trained_toy, tmp_path / "toy")
