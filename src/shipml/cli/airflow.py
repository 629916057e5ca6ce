"""`shipml airflow export`: write an Apache Airflow DAG file for the project."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shipml.cli._common import EXIT_UNUSABLE, ProjectDir, console, fail, open_project
from shipml.orchestration.airflow import ExportError, export_dag
from shipml.pipeline.windows import WindowInputError, parse_datetime


def register(app: typer.Typer) -> None:
    """Add the `airflow` command group to `app`."""
    group = typer.Typer(help="Run the project's windows on Apache Airflow.", no_args_is_help=True)
    group.command("export")(export)
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
    project = open_project(project_dir)
    try:
        start_date = None if start is None else parse_datetime(start)
        exported = export_dag(project, out, split=split, start=start_date)
    except WindowInputError as error:
        fail(str(error), EXIT_UNUSABLE)
    except ExportError as error:
        fail(str(error))
    console.print(
        f"wrote DAG {exported.dag_id} to {exported.path}", highlight=False, soft_wrap=True
    )
