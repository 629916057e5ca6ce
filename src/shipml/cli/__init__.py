"""The `shipml` command line."""

from __future__ import annotations

import typer

from shipml.cli import demo

app = typer.Typer(
    name="shipml",
    help="From notebook to production ML pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
demo.register(app)
