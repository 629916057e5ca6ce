"""The app of a `shipml serve` process, and the factory each worker calls when there are several."""

from __future__ import annotations

import gc
import os

from fastapi import FastAPI

from shipml.project.project import Project
from shipml.serving.app import create_app

PROJECT_VARIABLE = "SHIPML_SERVE_PROJECT"  # the project directory, set by `shipml serve`


def server_app(project: Project) -> FastAPI:
    """`create_app(project)` for a process that does nothing but serve it."""
    app = create_app(project)
    # A full garbage collection walks every object of the process: with pandas, scikit-learn
    # and MLflow loaded, about 250 ms during which no request moves. What exists now (modules,
    # the model) lives as long as the server: frozen, it is left out of every collection.
    gc.collect()
    gc.freeze()
    return app


def worker_app() -> FastAPI:
    """The app of the project named by $SHIPML_SERVE_PROJECT (one per worker process)."""
    directory = os.environ.get(PROJECT_VARIABLE)
    if not directory:
        raise RuntimeError(f"${PROJECT_VARIABLE} is not set: start the server with `shipml serve`")
    return server_app(Project.load(directory))
