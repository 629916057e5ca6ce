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

from shipml.cli._common import command
from shipml.notebooks.defaults import CHECK_CELL_TIMEOUT, CONVERT_TIMEOUT, DEFAULT_KERNEL

EXIT_FOUND = 1


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
    ] = CHECK_CELL_TIMEOUT,
    kernel: Annotated[str, typer.Option(help="With --run: the Jupyter kernel to start.")] = (
        DEFAULT_KERNEL
    ),
) -> None:
    """Find out-of-order runs, hidden state, globals, magics and absolute paths in a notebook."""
    from rich.console import Console

    from shipml.notebooks.check import (
        check_notebook,
        read_notebook,
        render_report,
        run_notebook,
        sorted_findings,
    )

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
    ] = CONVERT_TIMEOUT,
    verify: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Run the new project's tests.")
    ] = True,
) -> None:
    """Turn a notebook into a shipml project: steps, contracts, data, tests and CONVERSION.md."""
    from shipml.errors import NotConvertible
    from shipml.notebooks import conversion_summary
    from shipml.notebooks.convert import convert_notebook

    try:
        conversion = convert_notebook(notebook, out, name=name, timeout=timeout, verify=verify)
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
