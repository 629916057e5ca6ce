"""A window split into step-group tasks ends exactly like an unsplit `run_window`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from _projects import WINDOW_START
from shipml.orchestration import staging
from shipml.pipeline.runner import FlowFailed
from shipml.project.batch import WindowFailed, run_window
from shipml.project.project import Project
from shipml.windows import Window

WINDOW = Window(WINDOW_START, WINDOW_START + pd.Timedelta(minutes=15).to_pytimedelta())


def _split_run(project: Project, window: Window) -> str | None:
    """What the split DAG's tasks do, in order, handing over only paths."""
    handed_over = staging.stage_window(project, window)
    for group in staging.step_groups(project):
        handed_over = staging.run_group(project, window, group.name, handed_over)
    return handed_over


def test_a_split_run_records_and_writes_what_an_unsplit_run_does(toy: Path, tmp_path: Path) -> None:
    unsplit = Project.load(shutil.copytree(toy, tmp_path / "unsplit"))
    expected = run_window(unsplit, WINDOW)
    split = Project.load(toy)

    last_file = _split_run(split, WINDOW)
    outcome = staging.publish_window(split, WINDOW)

    assert last_file is not None and last_file.endswith("score.parquet")
    assert outcome.status == "succeeded"
    assert (outcome.rows_in, outcome.rows_out) == (expected.rows_in, expected.rows_out)
    written = pd.read_parquet(outcome.output).drop(columns=["run_id"])
    pd.testing.assert_frame_equal(
        written, pd.read_parquet(expected.output).drop(columns=["run_id"])
    )
    record, reference = split.store.run(outcome.run_id), unsplit.store.run(expected.run_id)
    assert [s.step for s in record.steps] == [s.step for s in reference.steps]
    assert [v.boundary for v in record.validations] == [v.boundary for v in reference.validations]
    assert record.run.data_version == reference.run.data_version
    assert not staging.stage_directory(split, WINDOW).exists()  # cleaned after publishing


def test_a_window_that_already_succeeded_is_not_run_again(toy: Path) -> None:
    project = Project.load(toy)
    _split_run(project, WINDOW)
    first = staging.publish_window(project, WINDOW)

    assert staging.stage_window(project, WINDOW) is None
    assert staging.run_group(project, WINDOW, "prepare", None) is None
    again = staging.publish_window(project, WINDOW)

    assert (again.status, again.run_id) == ("skipped", first.run_id)
    assert len(project.store.runs(pipeline="toy", kind="batch")) == 1


def test_a_failing_group_is_recorded_as_the_window_failure_by_publish(toy: Path) -> None:
    window_file = toy / "data" / "readings_20261127T1000.csv"
    rows = pd.read_csv(window_file)
    rows.loc[3, "temperature_c"] = 500.0  # above the contract's 150
    rows.to_csv(window_file, index=False)
    project = Project.load(toy)
    staged = staging.stage_window(project, WINDOW)

    with pytest.raises(FlowFailed):
        staging.run_group(project, WINDOW, "prepare", staged)
    with pytest.raises(WindowFailed) as failed:
        staging.publish_window(project, WINDOW)

    run = project.store.run(failed.value.outcome.run_id).run
    assert run.status == "failed"
    assert run.failed_step == "featurize"
    assert run.error is not None and "temperature_c" in run.error
