"""The `shipml` command line."""

from __future__ import annotations

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

app = typer.Typer(
    name="shipml",
    help="From notebook to production ML pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
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
