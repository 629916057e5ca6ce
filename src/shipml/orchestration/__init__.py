"""Orchestration: the embedded scheduler (`shipml schedule`) and Airflow DAG export.

Every orchestrator calls the one batch-window function, `shipml.project.batch.run_window`.
"""

from shipml.errors import ExportError
from shipml.orchestration.airflow import ExportedDag, export_dag, render_dag
from shipml.orchestration.attempts import alert_missing_input
from shipml.orchestration.due import DueWindows, due_windows
from shipml.orchestration.locks import PipelineLock
from shipml.orchestration.scheduler import WindowScheduler

__all__ = [
    "DueWindows",
    "ExportError",
    "ExportedDag",
    "PipelineLock",
    "WindowScheduler",
    "alert_missing_input",
    "due_windows",
    "export_dag",
    "render_dag",
]
