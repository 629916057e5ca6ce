"""What the commands share: the project option, errors as one line, progress, JSON output."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from shipml.config import ConfigError
from shipml.pipeline.pipeline import PipelineDefinitionError
from shipml.pipeline.project import Project, ProjectError
from shipml.pipeline.runner import StepObserver
from shipml.pipeline.step import Step, StepDefinitionError

EXIT_FAILED = 1
EXIT_UNUSABLE = 2

console = Console()
errors = Console(stderr=True)
log = logging.getLogger("shipml")

ProjectDir = Annotated[
    Path, typer.Option("--project", "-p", help="The project directory (holding shipml.toml).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print one line on stderr and exit with `code`."""
    # The message is text, not markup: "[tracking] uri" must print as written.
    errors.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def open_project(directory: Path) -> Project:
    """Load the project, or exit 2 with the reason in one line."""
    try:
        return Project.load(directory)
    except (ConfigError, ProjectError, PipelineDefinitionError, StepDefinitionError) as error:
        fail(str(error), EXIT_UNUSABLE)


def print_json(value: Any) -> None:
    """Print `value` as JSON on stdout (dates as ISO strings)."""
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


@contextmanager
def step_progress(label: str) -> Iterator[StepObserver]:
    """A progress bar over a flow's steps on a terminal; plain log lines otherwise."""
    if not console.is_terminal:
        yield _log_step(label)
        return
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
