"""The app factory each uvicorn worker calls when `shipml serve` runs several workers."""

from __future__ import annotations

import os

from fastapi import FastAPI

from shipml.pipeline.project import Project
from shipml.serving.app import create_app

PROJECT_VARIABLE = "SHIPML_SERVE_PROJECT"  # the project directory, set by `shipml serve`


def worker_app() -> FastAPI:
    """The app of the project named by $SHIPML_SERVE_PROJECT (one per worker process)."""
    directory = os.environ.get(PROJECT_VARIABLE)
    if not directory:
        raise RuntimeError(f"${PROJECT_VARIABLE} is not set: start the server with `shipml serve`")
    return create_app(Project.load(directory))
