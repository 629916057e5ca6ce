"""The `shipml` command line."""

from __future__ import annotations

import logging.config
import sys

import typer

from shipml.cli import (
    airflow,
    contracts,
    demo,
    models,
    monitor,
    notebook,
    runs,
    scaffold,
    schedule,
    serve,
)
from shipml.logs import logging_config

app = typer.Typer(
    name="shipml",
    help="From notebook to production ML pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _configure_logging() -> None:
    """Warnings as readable lines on a terminal; INFO as JSON lines elsewhere (logs, CI)."""
    on_terminal = sys.stderr.isatty()
    level = "WARNING" if on_terminal else "INFO"
    logging.config.dictConfig(logging_config(json_lines=not on_terminal, level=level))


for module in (
    demo,
    scaffold,
    contracts,
    models,
    runs,
    serve,
    monitor,
    notebook,
    schedule,
    airflow,
):
    module.register(app)
