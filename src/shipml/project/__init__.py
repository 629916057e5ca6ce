"""The application: a loaded project, and the jobs that run on it.

`Project.load(dir)` reads shipml.toml and imports the pipeline; `train(project)` trains,
evaluates and registers a model; `run_window(project, window)` is the one batch-window
function every orchestrator calls (the embedded scheduler, Airflow, `shipml run`), on the
local engine or on Dask. Observation of a window, its monitoring history, failed windows
(batch and online), performance per window (realized and estimated), the HTML report and
the Prometheus export live here too, beside the jobs that produce them.
"""

from shipml.project.baselines import ModelBaselines
from shipml.project.batch import WindowOutcome, labels_configured, run_window
from shipml.project.challenger import ChallengerLineage, challenger_lineage
from shipml.project.engines import Engine, LocalEngine, engine_by_name
from shipml.project.evaluation import CandidateHoldout, EvaluationData
from shipml.project.failures import FailedWindow, failed_windows, failure_reason
from shipml.project.history import (
    EVALUATION,
    WINDOW,
    MonitoredWindow,
    load_baseline,
    load_windows,
    save_window,
)
from shipml.project.labels import LabelIngest, ingest_due, ingest_labels, ingest_range
from shipml.project.observe import FEATURES, PREDICTIONS
from shipml.project.online import online_window_outcome
from shipml.project.performance import load_performance, save_estimates
from shipml.project.predictions import online_log_window, online_log_writer
from shipml.project.project import HOME, Project
from shipml.project.prometheus import (
    MonitoringMetrics,
    PerformanceMetrics,
    register_monitoring_metrics,
)
from shipml.project.promotion import AliasMove, evaluate, promote, rollback
from shipml.project.report import render_report
from shipml.project.retraining import RETRAINING, RetrainingOutcome, retrain_on_alerts
from shipml.project.training import TrainingOutcome, train

__all__ = [
    "EVALUATION",
    "FEATURES",
    "HOME",
    "PREDICTIONS",
    "RETRAINING",
    "WINDOW",
    "AliasMove",
    "CandidateHoldout",
    "ChallengerLineage",
    "Engine",
    "EvaluationData",
    "FailedWindow",
    "LabelIngest",
    "LocalEngine",
    "ModelBaselines",
    "MonitoredWindow",
    "MonitoringMetrics",
    "PerformanceMetrics",
    "Project",
    "RetrainingOutcome",
    "TrainingOutcome",
    "WindowOutcome",
    "challenger_lineage",
    "engine_by_name",
    "evaluate",
    "failed_windows",
    "failure_reason",
    "ingest_due",
    "ingest_labels",
    "ingest_range",
    "labels_configured",
    "load_baseline",
    "load_performance",
    "load_windows",
    "online_log_window",
    "online_log_writer",
    "online_window_outcome",
    "promote",
    "register_monitoring_metrics",
    "render_report",
    "retrain_on_alerts",
    "rollback",
    "run_window",
    "save_estimates",
    "save_window",
    "train",
]
