"""The `shipml` command line."""

from __future__ import annotations

import typer

from shipml.cli import contracts, demo, models, monitor, runs, serve

app = typer.Typer(
    name="shipml",
    help="From notebook to production ML pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for module in (demo, contracts, models, runs, serve, monitor):
    module.register(app)
