"""The app of a `shipml serve` process: built once, then left out of garbage collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from shipml.project.project import Project
from shipml.serving import app as serving


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()  # the test process goes on collecting as before


def test_a_serving_process_freezes_what_it_built_before_serving(
    monkeypatch: pytest.MonkeyPatch, unfrozen_afterwards: None
) -> None:
    built: list[object] = []

    def create_app(project: Project) -> FastAPI:
        built.append(project)
        return FastAPI()

    monkeypatch.setattr(serving, "create_app", create_app)
    frozen_before = gc.get_freeze_count()
    project = object()
    app = serving.server_app(project)  # type: ignore[arg-type]

    assert isinstance(app, FastAPI)
    assert built == [project]
    assert gc.get_freeze_count() > frozen_before, "what was built is out of the collector's way"
