"""`shipml init NAME`: a new project that trains, runs a window and passes its own tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipml.cli._common import EXIT_UNUSABLE, console, fail
from shipml.scaffold import ScaffoldError, init_project


def register(app: typer.Typer) -> None:
    """Add `init` to `app`."""
    app.command("init")(init)


def init(
    name: Annotated[str, typer.Argument(help="The project's name (lowercase, e.g. churn).")],
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to create it (default: ./NAME).")
    ] = None,
) -> None:
    """Create a new shipml project with example data, tests and a DVC train stage."""
    target = directory or Path(name)
    try:
        init_project(target, name)
    except ScaffoldError as error:
        fail(str(error), EXIT_UNUSABLE)
    console.print(
        f"[bold green]✓[/] created {target}/ — next: cd {target} && shipml train --promote champion"
    )
