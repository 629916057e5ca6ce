"""The `shipml` command line.

Each command imports what it needs when it runs, so `shipml --help` starts fast.
"""

from __future__ import annotations

import logging.config
import sys
from typing import Annotated

import typer

from shipml.cli import (
    airflow,
    contracts,
    demo,
    labels,
    models,
    monitor,
    notebook,
    runs,
    scaffold,
    schedule,
    serve,
)
from shipml.logs import logging_config

__all__ = ["app"]

app = typer.Typer(
    name="shipml",
    help="From notebook to production ML pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        from shipml import __version__

        typer.echo(f"shipml {__version__}")
        raise typer.Exit()


@app.callback()
def _configure_logging(
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Also INFO lines, and the libraries' own (MLflow's prints)."
        ),
    ] = False,
) -> None:
    """Warnings as readable lines on a terminal; INFO as JSON lines elsewhere (logs, CI)."""
    on_terminal = sys.stderr.isatty()
    level = "WARNING" if on_terminal and not verbose else "INFO"
    config = logging_config(json_lines=not on_terminal, level=level, verbose=verbose)
    logging.config.dictConfig(config)


for module in (
    demo,
    scaffold,
    contracts,
    models,
    runs,
    serve,
    monitor,
    labels,
    notebook,
    schedule,
    airflow,
):
    module.register(app)
