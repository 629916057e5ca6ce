"""What the commands share: registration with one error handler, the project option, output."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from shipml.errors import EXIT_FAILED, EXIT_UNUSABLE, ShipmlError

if TYPE_CHECKING:
    from shipml.pipeline.runner import StepObserver
    from shipml.pipeline.step import Step
    from shipml.project.project import Project

__all__ = ["EXIT_FAILED", "EXIT_UNUSABLE"]

Command = TypeVar("Command", bound=Callable[..., Any])

console = Console()
errors = Console(stderr=True)
log = logging.getLogger("shipml")

ProjectDir = Annotated[
    Path, typer.Option("--project", "-p", help="The project directory (holding shipml.toml).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def command(group: typer.Typer, name: str) -> Callable[[Command], Command]:
    """Register a function as command `name` of `group`; a `ShipmlError` ends it in one line."""

    def register(function: Command) -> Command:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except ShipmlError as error:
                fail(str(error), error.exit_code)

        group.command(name)(run)
        return function

    return register


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print one line on stderr and exit with `code`."""
    # The message is text, not markup: "[tracking] uri" must print as written.
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def open_project(directory: Path) -> Project:
    """Load the project (a `ShipmlError` names what is wrong with it)."""
    from shipml.project.project import Project

    return Project.load(directory)


def print_json(value: Any) -> None:
    """Print `value` as JSON on stdout (dates as ISO strings)."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


@contextmanager
def step_progress(label: str) -> Iterator[StepObserver]:
    """A progress bar over a flow's steps on a terminal; plain log lines otherwise."""
    if not console.is_terminal:
        yield _log_step(label)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def advance(step: Step, position: int, total: int) -> None:
            description = f"{label}: {step.name}"
            progress.update(task, total=total, completed=position, description=description)

        yield advance


def _log_step(label: str) -> StepObserver:
    def report(step: Step, position: int, total: int) -> None:
        log.info("%s: step %d/%d %s", label, position + 1, total, step.name)

    return report
