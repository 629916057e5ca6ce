"""The toy project under quarantine, a window of it with broken rows, a model with baselines."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from _projects import SETTINGS, WINDOW_START, fitted_model, write_project
from shipml.contracts import Baseline
from shipml.monitoring import MonitoringBaseline
from shipml.pipeline.runner import BoundaryPolicy, Policies, run_flow
from shipml.project.baselines import ModelBaselines
from shipml.project.batch import WindowOutcome
from shipml.project.observe import FEATURES, PREDICTIONS
from shipml.project.project import Project
from shipml.versioning.tracking import LoadedModel
from shipml.windows import Window

WINDOW = Window(WINDOW_START, WINDOW_START + timedelta(minutes=15))
QUARANTINE_LIMIT = 0.1
QUARANTINE = SETTINGS + (
    f'\n[validation]\npolicy = "quarantine"\nmax_invalid_fraction = {QUARANTINE_LIMIT}\n'
)


def quarantine_project(directory: Path) -> Project:
    """The toy project, invalid rows set aside up to 10% of a window."""
    return Project.load(write_project(directory, settings=QUARANTINE))


def break_rows(project: Project, broken: dict[int, tuple[str, Any]]) -> None:
    """Overwrite cells of WINDOW's input file: row -> (column, bad value)."""
    source = project.root / "data" / f"readings_{WINDOW.start:%Y%m%dT%H%M}.csv"
    rows = pd.read_csv(source)
    for row, (column, value) in broken.items():
        rows[column] = rows[column].astype(object)
        rows.loc[row, column] = value
    rows.to_csv(source, index=False)


def monitored_model(project: Project) -> LoadedModel:
    """The toy model with the baselines training stores with it, so windows are monitored."""
    fitted = fitted_model(project.root)
    train = pd.read_csv(project.root / "data" / "train.csv").drop(columns=["failed"])
    scored = run_flow(
        project.pipeline.online,
        train,
        context={"model": fitted.model},
        policies=Policies(BoundaryPolicy("quarantine", max_invalid_fraction=1.0)),
        keep=(FEATURES, PREDICTIONS),
    )
    features, predictions = scored.kept[FEATURES], scored.kept[PREDICTIONS]
    baselines = ModelBaselines(
        inputs=Baseline.from_frame(train),
        monitoring=MonitoringBaseline.from_training(
            features, predictions[["failure_probability"]], "failure_probability"
        ),
    )
    return dataclasses.replace(fitted, baseline=baselines.to_json())


def counts(outcome: WindowOutcome) -> tuple[int, ...]:
    """Rows in, valid, quarantined and out of a window."""
    return (outcome.rows_in, outcome.rows_valid, outcome.rows_quarantined, outcome.rows_out)


def evaluations(project: Project) -> list[dict[str, Any]]:
    """The stored evaluations of the project's windows, oldest run first."""
    records = project.store.profiles(project.name, "batch", "evaluation")
    return [r.payload for r in sorted(records, key=lambda r: r.created_at)]


def assert_same_window(project: Project, local: WindowOutcome, dask: WindowOutcome) -> None:
    """Two runs of a window agree: output rows, counts, reports, quarantined rows, monitoring."""
    assert local.output is not None and dask.output is not None
    assert counts(dask) == counts(local)
    pd.testing.assert_frame_equal(
        pd.read_parquet(dask.output).drop(columns="run_id"),
        pd.read_parquet(local.output).drop(columns="run_id"),
    )
    local_run, dask_run = project.store.run(local.run_id), project.store.run(dask.run_id)
    assert (local_run.run.engine, dask_run.run.engine) == ("local", "dask")
    assert dask_run.validations == local_run.validations
    assert [(s.step, s.rows_in, s.rows_out) for s in dask_run.steps] == [
        (s.step, s.rows_in, s.rows_out) for s in local_run.steps
    ]
    pd.testing.assert_frame_equal(
        project.store.quarantined(dask.run_id), project.store.quarantined(local.run_id)
    )
    stored = {r.run_id: r.payload for r in project.store.profiles(project.name, "batch", "window")}
    assert _without_spread(stored[dask.run_id]) == _without_spread(stored[local.run_id])
    by_run = {
        r.run_id: r.payload for r in project.store.profiles(project.name, "batch", "evaluation")
    }
    for key in ("drift", "shift"):
        assert by_run[dask.run_id][key] == by_run[local.run_id][key]
    assert _findings(by_run[dask.run_id]) == _findings(by_run[local.run_id])


def _findings(evaluation: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerts of an evaluation but latency's (timings differ from run to run)."""
    return [a for a in evaluation["alerts"] if not a["rule"].startswith("latency")]


def _without_spread(profile: dict[str, Any]) -> dict[str, Any]:
    """A stored profile without the moments' m2 (merged partitions round it differently)."""
    columns = {}
    for name, column in profile["columns"].items():
        if "moments" in column:
            column = {**column, "moments": {**column["moments"], "m2": None}}
        columns[name] = column
    return {**profile, "columns": columns}
