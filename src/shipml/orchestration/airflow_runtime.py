"""What the exported Airflow DAGs call at run time (imported only inside Airflow tasks)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

from shipml.errors import MissingInput, ScheduleChanged, WindowFailed
from shipml.orchestration.attempts import alert_missing_input
from shipml.orchestration.scheduler import describe
from shipml.project.project import Project
from shipml.windows import Window, latest_complete_window


def window_of_run(project: Project, context: Mapping[str, Any], exported: str) -> Window:
    """The window a DAG run scores: the one that ended at the run's logical date.

    The DAGs use trigger timetables, whose data interval is empty (start == end): the
    logical date is the fire time, and the window is the latest complete one at that time.
    A manual run without a logical date takes its `run_after` time instead.
    """
    cadence = project.settings.schedule.cadence()
    if describe(cadence) != exported:
        raise ScheduleChanged(
            f"shipml.toml's schedule is now {describe(cadence)}, but the DAG was exported with "
            f"{exported}: run `shipml airflow export` again"
        )
    moment = context.get("logical_date") or context["dag_run"].run_after
    return latest_complete_window(cadence, _utc(moment))


def fail_for_airflow(
    project: Project, window: Window, error: WindowFailed | MissingInput, context: Mapping[str, Any]
) -> NoReturn:
    """Fail the task: missing input is retried (alerted on the last try), anything else is not."""
    from airflow.sdk.exceptions import (  # type: ignore[import-not-found]  # only inside Airflow
        AirflowFailException,
    )

    cause = error.cause if isinstance(error, WindowFailed) else error
    if not isinstance(cause, MissingInput):
        raise AirflowFailException(str(error)) from error
    instance = context["ti"]
    if instance.try_number > instance.max_tries:  # this was the last try
        run_id = error.outcome.run_id if isinstance(error, WindowFailed) else None
        alert_missing_input(
            project, [window], str(cause), attempts=instance.try_number, run_id=run_id
        )
    raise error


def _utc(moment: datetime) -> datetime:
    """An Airflow (pendulum) date-time as a plain UTC datetime."""
    return datetime.fromtimestamp(moment.timestamp(), UTC)
