"""`shipml notebook check` and `convert`: from a notebook to a pipeline.

`check` exit codes: 0 when nothing is found, 1 when any finding is reported, 2 when the notebook
cannot be read (or `--run` cannot start a kernel), with one line on stderr.
`convert` exit codes: 0 when the project is written and its tests pass, 1 when the notebook
cannot be converted (the reasons by cell; nothing written) or the new project's tests fail,
2 when the notebook cannot be read or the output directory cannot be used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipml.cli._common import EXIT_UNUSABLE, command, fail

EXIT_FOUND = 1
DEFAULT_KERNEL = "python3"
DEFAULT_TIMEOUT = 600.0


def register(app: typer.Typer) -> None:
    """Add the `notebook` group (with `check` and `convert`) to `app`."""
    notebook_app = typer.Typer(help="Work with Jupyter notebooks.", no_args_is_help=True)
    command(notebook_app, "check")(check)
    command(notebook_app, "convert")(convert)
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
    from rich.console import Console

    from shipml.notebooks.cells import read_notebook
    from shipml.notebooks.check import check_notebook, sorted_findings
    from shipml.notebooks.render import render_report
    from shipml.notebooks.run import run_notebook

    parsed = read_notebook(notebook)
    report = check_notebook(parsed)
    if run:
        failures, summary = run_notebook(parsed, timeout=timeout, kernel=kernel)
        report.findings = sorted_findings([*report.findings, *failures])
        report.run = summary
    if json_output:
        typer.echo(report.model_dump_json(indent=2))
    else:
        Console().print(render_report(report))
    raise typer.Exit(0 if report.clean else EXIT_FOUND)


def convert(
    notebook: Annotated[Path, typer.Argument(help="The .ipynb file to convert.")],
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the new project (absent or empty).")
    ],
    name: Annotated[
        str | None, typer.Option(help="Project name (default: from the notebook's file name).")
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=1.0, help="Seconds allowed for running the notebook once.")
    ] = DEFAULT_TIMEOUT,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Run the new project's tests.")
    ] = True,
) -> None:
    """Turn a notebook into a shipml project: steps, contracts, data, tests and CONVERSION.md."""
    from shipml.notebooks.blockers import NotConvertible
    from shipml.notebooks.conversion_report import conversion_summary
    from shipml.notebooks.convert import OutputUnusable, convert_notebook

    try:
        conversion = convert_notebook(notebook, out, name=name, timeout=timeout, verify=verify)
    except OutputUnusable as error:
        fail(str(error), EXIT_UNUSABLE)
    except NotConvertible as refusal:
        typer.echo(
            f"cannot convert {notebook}: {len(refusal.blockers)} reason(s) by cell, nothing "
            "written (`shipml notebook check` explains the notebook traps)"
        )
        for blocker in refusal.blockers:
            typer.echo(f"  {blocker}")
        raise typer.Exit(EXIT_FOUND) from None
    verification = conversion.verification
    typer.echo(
        conversion_summary(
            conversion.design, str(out), verification.summary if verification else None
        )
    )
    if verification is not None and not verification.passed:
        typer.echo(f"the new project's tests fail:\n{verification.output}", err=True)
        raise typer.Exit(EXIT_FOUND)
