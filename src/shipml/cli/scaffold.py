"""`shipml init NAME`: a new project that trains, runs a window and passes its own tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, cast

import typer

from shipml.cli._common import command, console


def register(app: typer.Typer) -> None:
    """Add `init` to `app`."""
    command(app, "init")(init)


def init(
    name: Annotated[str, typer.Argument(help="The project's name (lowercase, e.g. churn).")],
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to create it (default: ./NAME).")
    ] = None,
    task: Annotated[
        str,
        typer.Option(help="binary (true/false label), multiclass (string classes) or regression."),
    ] = "binary",
) -> None:
    """Create a new shipml project with example data, tests and a DVC train stage."""
    from shipml.scaffold import ScaffoldTask, init_project

    target = directory or Path(name)
    init_project(target, name, cast(ScaffoldTask, task))  # init_project checks the task
    console.print(
        f"[bold green]✓[/] created {target}/ — next: cd {target} && shipml train --promote champion"
    )
