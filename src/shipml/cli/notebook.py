"""`shipml notebook check`: find the traps that keep a notebook from being a pipeline.

Exit codes: 0 when nothing is found, 1 when any finding is reported, 2 when the notebook
cannot be read (or `--run` cannot start a kernel), with one line on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from shipml.notebooks.cells import read_notebook
from shipml.notebooks.check import check_notebook, sorted_findings
from shipml.notebooks.errors import NotebookRunUnavailable, UnreadableNotebook
from shipml.notebooks.render import render_report
from shipml.notebooks.run import DEFAULT_KERNEL, run_notebook

EXIT_FOUND = 1
EXIT_UNUSABLE = 2


def register(app: typer.Typer) -> None:
    """Add the `notebook` group (with `check`) to `app`."""
    notebook_app = typer.Typer(help="Work with Jupyter notebooks.", no_args_is_help=True)
    notebook_app.command("check")(check)
    app.add_typer(notebook_app, name="notebook")


def check(
    notebook: Annotated[Path, typer.Argument(help="The .ipynb file to check.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    run: Annotated[
        bool,
        typer.Option(
            "--run", help="Also run it top to bottom in a fresh kernel (needs shipml[notebook])."
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="With --run: seconds allowed per cell.")
    ] = 120.0,
    kernel: Annotated[str, typer.Option(help="With --run: the Jupyter kernel to start.")] = (
        DEFAULT_KERNEL
    ),
) -> None:
    """Find out-of-order runs, hidden state, globals, magics and absolute paths in a notebook."""
    try:
        parsed = read_notebook(notebook)
    except UnreadableNotebook as error:
        _refuse(str(error))
    report = check_notebook(parsed)
    if run:
        try:
            failures, summary = run_notebook(parsed, timeout=timeout, kernel=kernel)
        except (NotebookRunUnavailable, UnreadableNotebook) as error:
            _refuse(str(error))
        report.findings = sorted_findings([*report.findings, *failures])
        report.run = summary
    if json_output:
        typer.echo(report.model_dump_json(indent=2))
    else:
        Console().print(render_report(report))
    raise typer.Exit(0 if report.clean else EXIT_FOUND)


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_UNUSABLE)
