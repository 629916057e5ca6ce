"""Rows in = valid + invalid, for every run, failed or not: property-tested over random mixes
of valid and invalid rows and both policies, in the store and in `shipml lineage --json`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from itertools import count
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from _projects import SETTINGS, WINDOW_START, readings
from shipml.cli import app
from shipml.errors import RunFailed, WindowFailed
from shipml.project.batch import run_window
from shipml.project.project import Project
from shipml.windows import Window

QUARTER = timedelta(minutes=15)
MAX_INVALID_FRACTION = 0.4
_next_window = count(1000)

# Each invalid row breaks the Reading contract one or two ways.
BREAKS = {
    "hot": ("temperature_c", 500.0),
    "bad_id": ("machine_id", "X-1"),
    "no_temperature": ("temperature_c", None),
}


@pytest.fixture(scope="module", params=["fail", "quarantine"])
def project(
    request: pytest.FixtureRequest, trained_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Project]:
    """The trained toy project under one policy (quarantine up to 40% invalid rows)."""
    directory = tmp_path_factory.mktemp(request.param) / "project"
    shutil.copytree(trained_project, directory, ignore=shutil.ignore_patterns("outputs"))
    (directory / "shipml.toml").write_text(
        SETTINGS
        + f'\n[validation]\npolicy = "{request.param}"\n'
        + f"max_invalid_fraction = {MAX_INVALID_FRACTION}\n"
    )
    loaded = Project.load(directory)
    yield loaded
    loaded.store.close()


def window_input(project: Project, valid: int, broken: list[list[str]]) -> Window:
    """A fresh window whose input has `valid` good rows and one row per entry of `broken`."""
    number = next(_next_window)
    window = Window(WINDOW_START + number * QUARTER, WINDOW_START + (number + 1) * QUARTER)
    frame = readings(window.start, valid + len(broken), seed=number).drop(columns=["failed"])
    frame = frame.astype({"temperature_c": "object", "machine_id": "object"})
    for offset, kinds in enumerate(broken):
        for kind in kinds:
            column, value = BREAKS[kind]
            frame.loc[valid + offset, column] = value
    frame = frame.sample(frac=1.0, random_state=number).reset_index(drop=True)
    frame.to_csv(project.root / "data" / f"readings_{window.start:%Y%m%dT%H%M}.csv", index=False)
    return window


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    valid=st.integers(min_value=1, max_value=60),
    broken=st.lists(
        st.lists(st.sampled_from(sorted(BREAKS)), min_size=1, max_size=2, unique=True),
        max_size=30,
    ),
)
def test_rows_in_are_valid_plus_invalid_whatever_happens(
    project: Project, valid: int, broken: list[list[str]]
) -> None:
    window = window_input(project, valid, broken)
    policy = project.settings.validation.policy
    total, invalid = valid + len(broken), len(broken)

    try:
        outcome = run_window(project, window)
    except WindowFailed as failed:
        outcome = failed.outcome

    fails = invalid > 0 and (policy == "fail" or invalid / total > MAX_INVALID_FRACTION)
    assert outcome.status == ("failed" if fails else "succeeded")
    assert outcome.run_id is not None
    stored = project.store.run(outcome.run_id).run
    assert (stored.rows_in, stored.rows_valid, stored.rows_invalid) == (total, valid, invalid)
    assert (outcome.rows_in, outcome.rows_valid, outcome.rows_invalid) == (total, valid, invalid)
    quarantined = invalid if policy == "quarantine" and not fails else 0
    assert stored.rows_quarantined == quarantined
    assert stored.rows_out == (0 if fails else valid)

    lineage = CliRunner().invoke(
        app, ["lineage", outcome.run_id, "--project", str(project.root), "--json"]
    )
    run = json.loads(lineage.stdout)["run"]
    assert (run["rows_in"], run["rows_valid"], run["rows_invalid"]) == (total, valid, invalid)
    assert run["rows_quarantined"] == quarantined
    reports = json.loads(lineage.stdout)["validations"]
    # the run's counts agree with its own validation reports
    assert sum(report["invalid_rows"] for report in reports) == invalid


def test_a_window_whose_input_is_unreadable_counts_no_row(project: Project) -> None:
    window = Window(WINDOW_START - QUARTER * 500, WINDOW_START - QUARTER * 499)  # no file

    with pytest.raises(WindowFailed) as failed:
        run_window(project, window)

    stored = project.store.run(failed.value.outcome.run_id or "").run
    assert (stored.rows_in, stored.rows_valid, stored.rows_invalid) == (0, 0, 0)
    assert stored.status == "failed"


def test_a_failed_training_run_counts_its_invalid_rows(
    trained_project: Path, tmp_path: Path
) -> None:
    from shipml.project.training import train

    directory = Path(shutil.copytree(trained_project, tmp_path / "project"))
    data = directory / "data" / "train.csv"
    frame = pd.read_csv(data)
    frame.loc[:99, "temperature_c"] = 500.0  # 100 of 2000 rows, under the "fail" policy
    frame.to_csv(data, index=False)
    project = Project.load(directory)

    with pytest.raises(RunFailed):  # a FlowFailed; the run record is checked below
        train(project)

    [run] = project.store.runs(limit=1, pipeline="toy", kind="train")
    assert run.status == "failed"
    assert run.rows_invalid == 100  # the broken rows are the oldest: all in the fitting split
    assert run.rows_in == run.rows_valid + run.rows_invalid
