"""The `shipml` command line."""

from __future__ import annotations

import typer

from shipml.cli import contracts, demo, models, runs

app = typer.Typer(
    name="shipml",
    help="From notebook to production ML pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for module in (demo, contracts, models, runs):
    module.register(app)
