"""`shipml airflow export`: write an Apache Airflow DAG file for the project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipml.cli._common import ProjectDir, command, console, open_project


def register(app: typer.Typer) -> None:
    """Add the `airflow` command group to `app`."""
    group = typer.Typer(help="Run the project's windows on Apache Airflow.", no_args_is_help=True)
    command(group, "export")(export)
    app.add_typer(group, name="airflow")


def export(
    project_dir: ProjectDir = Path("."),
    out: Annotated[Path, typer.Option(help="The directory to write the DAG file into.")] = Path(
        "dags"
    ),
    split: Annotated[
        bool, typer.Option(help="One task per step group, handing data over as Parquet files.")
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            help="The DAG's start date, ISO 8601: Airflow runs no window ending before it. "
            "[default: the end of the latest complete window]"
        ),
    ] = None,
) -> None:
    """Write an Airflow 3 DAG that runs each batch window on the project's schedule."""
    from shipml.orchestration.airflow import export_dag
    from shipml.windows import parse_datetime

    project = open_project(project_dir)
    start_date = None if start is None else parse_datetime(start)
    exported = export_dag(project, out, split=split, start=start_date)
    console.print(
        f"wrote DAG {exported.dag_id} to {exported.path}", highlight=False, soft_wrap=True
    )
