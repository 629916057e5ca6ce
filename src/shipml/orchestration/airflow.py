"""`shipml airflow export`: an Airflow 3 DAG file (TaskFlow) that runs a project's windows.

The DAG fires on the project's schedule with a trigger timetable (`DeltaTriggerTimetable`
for `every`, `CronTriggerTimetable` for `cron`); each run scores the window that ended at
its logical date by calling the batch-window function, like `shipml run`. Retries follow
`schedule.missing_input_retries` and `missing_input_backoff`. With `split`, the window runs
as one task per step group that hand each other Parquet files by path (see `staging`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from string import Template

from shipml.errors import ExportError
from shipml.orchestration.scheduler import describe
from shipml.orchestration.staging import step_groups
from shipml.project.project import Project
from shipml.windows import Cadence, latest_complete_window

_NOT_IN_DAG_ID = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class ExportedDag:
    """A DAG file written for a project."""

    dag_id: str
    path: Path
    split: bool


# With a [labels] source, a task after the window joins the labels that arrived since.
_LABELS_TASK = """
    @task(retries=0)
    def labels_ingest(**context: object) -> dict[str, int] | None:
        \"\"\"Join the labels that arrived since the last ingest to the logged predictions.\"\"\"
        from shipml import Project
        from shipml.orchestration.airflow_runtime import window_of_run
        from shipml.project import ingest_due

        project = Project.load(PROJECT_DIR)
        window = window_of_run(project, context, SCHEDULE)
        found = ingest_due(project, window.end)
        return None if found is None else found.counts
"""


def dag_id_of(project: Project) -> str:
    """The DAG's id: `shipml_<project name>`, with characters Airflow refuses replaced by '_'."""
    return "shipml_" + _NOT_IN_DAG_ID.sub("_", project.name)


def render_dag(project: Project, *, split: bool = False, start: datetime | None = None) -> str:
    """The Python source of the project's DAG file.

    `start` is the DAG's start date, the end of its first window (default: the end of the
    latest complete window): Airflow runs no window that ends before it.
    """
    schedule = project.settings.schedule
    cadence = schedule.cadence()
    start_date = _start_date(cadence, start)
    template = "dag_split.py.tmpl" if split else "dag.py.tmpl"
    labels = project.settings.labels.label_source() is not None
    text = files("shipml.orchestration").joinpath("templates", template).read_text()
    dag_id = dag_id_of(project)
    timetable_class, timetable = _timetable(cadence)
    return Template(text).substitute(
        project_name=_literal(project.name),
        project_dir=str(project.root),
        project_dir_literal=_literal(str(project.root)),
        schedule_literal=_literal(describe(cadence)),
        groups_literal=_tuple_literal([group.name for group in step_groups(project)]),
        dag_id_literal=_literal(dag_id),
        function_name=dag_id.replace("-", "_").replace(".", "_"),
        timetable_class=timetable_class,
        timetable=timetable,
        start_date_literal=_literal(start_date.isoformat()),
        retries=schedule.missing_input_retries,
        retry_delay_seconds=int(schedule.missing_input_backoff.total_seconds()),
        labels_task=_LABELS_TASK if labels else "",
        labels_after=" >> labels_ingest()" if labels else "",
    )


def export_dag(
    project: Project, directory: Path, *, split: bool = False, start: datetime | None = None
) -> ExportedDag:
    """Write the project's DAG file into `directory` (created if needed)."""
    source = render_dag(project, split=split, start=start)
    dag_id = dag_id_of(project)
    path = directory / f"{dag_id}.py"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    return ExportedDag(dag_id, path, split)


def _start_date(cadence: Cadence, start: datetime | None) -> datetime:
    """`start` checked to be a window bound of the cadence, or the latest one before now."""
    if start is None:
        return latest_complete_window(cadence).end
    bound = latest_complete_window(cadence, start).end
    if bound != start:
        raise ExportError(
            f"start {start.isoformat()} is not a window bound of the schedule "
            f"({describe(cadence)}); the one before it is {bound.isoformat()}"
        )
    return start


def _timetable(cadence: Cadence) -> tuple[str, str]:
    """The trigger timetable's class name and constructor call for the cadence."""
    if isinstance(cadence, timedelta):
        seconds = int(cadence.total_seconds())
        return "DeltaTriggerTimetable", f"DeltaTriggerTimetable(timedelta(seconds={seconds}))"
    expression, timezone = _literal(cadence.expression), _literal(cadence.timezone)
    call = f"CronTriggerTimetable({expression}, timezone={timezone})"
    return "CronTriggerTimetable", call


def _literal(text: str) -> str:
    """`text` as a Python string literal in double quotes, as formatters write it."""
    return json.dumps(text)  # a JSON string is a valid Python string literal


def _tuple_literal(texts: list[str]) -> str:
    """A tuple of strings as Python source: ("a", "b") or ("a",)."""
    items = ", ".join(_literal(text) for text in texts)
    return f"({items},)" if len(texts) == 1 else f"({items})"
