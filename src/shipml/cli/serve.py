"""`shipml serve`: the model behind an HTTP API (uvicorn running `create_app`)."""

from __future__ import annotations

import contextlib
import logging.config
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shipml.cli._common import ProjectDir, command, open_project

if TYPE_CHECKING:
    from shipml.project.project import Project

WORKER_STARTUP_SECONDS = 120


def register(app: typer.Typer) -> None:
    """Add `serve` to `app`."""
    command(app, "serve")(serve)


def serve(
    project_dir: ProjectDir = Path("."),
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: serving.host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default: serving.port, 8000).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: serving.workers, 1).")
    ] = None,
) -> None:
    """Serve the model: POST /predict, GET /health, /ready, /model, /metrics and /docs."""
    from shipml.logs import logging_config
    from shipml.serving import server_options

    project = open_project(project_dir)
    settings = project.settings.serving
    log_config = logging_config(background=True)
    logging.config.dictConfig(log_config)
    options: dict[str, Any] = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_config": log_config,
        "access_log": settings.access_log,
        "timeout_graceful_shutdown": 30,
        **server_options(settings),
    }
    workers = workers or settings.workers
    if workers == 1:
        _serve_in_this_process(project, options)
    else:
        _serve_in_workers(project, workers, options)


def _serve_in_this_process(project: Project, options: dict[str, Any]) -> None:
    import uvicorn

    from shipml.serving import server_app

    uvicorn.run(server_app(project), **options)


def _serve_in_workers(project: Project, workers: int, options: dict[str, Any]) -> None:
    """Each worker process builds its own app (see `shipml.serving.app.worker_app`) and has a
    listening socket of its own (see `shipml.serving.workers`)."""
    import uvicorn

    from shipml.serving import PROJECT_VARIABLE, check_model, serve_in_workers

    check_model(project)  # fail fast here, not in every worker
    os.environ[PROJECT_VARIABLE] = str(project.root)
    config = uvicorn.Config(
        "shipml.serving.app:worker_app",
        factory=True,
        workers=workers,
        # A worker answers the supervisor's health checks only once its imports are done,
        # which takes longer than uvicorn's default 5 s on a busy machine.
        timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
        **options,
    )
    with _metrics_directory(), contextlib.suppress(KeyboardInterrupt):
        serve_in_workers(config)


@contextmanager
def _metrics_directory() -> Iterator[None]:
    """A PROMETHEUS_MULTIPROC_DIR the workers share, emptied of an earlier run's files."""
    from shipml.serving import MULTIPROCESS_VARIABLE

    given = os.environ.get(MULTIPROCESS_VARIABLE)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        yield
        return
    directory = tempfile.mkdtemp(prefix="shipml-metrics-")
    os.environ[MULTIPROCESS_VARIABLE] = directory
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)
