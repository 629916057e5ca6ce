"""`shipml demo`: the bundled example, end to end."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the demo command to `app`."""
    app.command("demo")(demo)


def demo() -> None:
    """Run the bundled example."""
    typer.echo("shipml demo")
