"""A window scored on Dask is logged with its keys as the local engine logs it, labels join alike.

A binary project (breast cancer) is trained once; each test scores its 60-row window in two
copies of it, one on the local engine and one on a cluster of 2 worker processes (4
partitions), then ingests the same late labels into both: the prediction logs hold the same
rows and keys, the outputs (Parquet or SQL) the same generated `prediction_id`s, and the
ingests give the same counts and realized performance, the challenger's too.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from distributed import Client, LocalCluster
from sqlalchemy import create_engine
from typer.testing import CliRunner

from _task_projects import WINDOW, WINDOW_START, TaskData, write_task_project
from shipml.cli import app
from shipml.project.batch import WindowFailed, WindowOutcome, run_window
from shipml.project.engines.dask import DaskEngine
from shipml.project.labels import LabelIngest, ingest_labels
from shipml.project.predictions import LoggedWindow, logged_windows, purge
from shipml.project.project import Project
from shipml.windows import Window

SCORED = Window(WINDOW_START, WINDOW_START + WINDOW)
LATER = WINDOW_START + timedelta(hours=6)
KEYED = '[labels]\nkey = ["id"]\n'
GENERATED = "[labels]\n"
LABELS = """min_labels = 20
label_delay = "1d"

[labels.source]
kind = "files"
path = "data/labels.csv"
time_column = "labelled_at"
"""


@pytest.fixture(scope="module")
def engine() -> Iterator[DaskEngine]:
    """Four partitions of the 60-row window on 2 worker processes."""
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        yield DaskEngine(client=client, partition_rows=16)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TaskData]:
    """The breast cancer project, trained and promoted through the CLI."""
    directory = tmp_path_factory.mktemp("trained")
    data = write_task_project(directory, "breast_cancer")
    outcome = CliRunner().invoke(
        app, ["train", "--project", str(directory), "--promote", "champion", "--json"]
    )
    assert outcome.exit_code == 0, outcome.output
    return directory, data


def logged_copy(trained: tuple[Path, TaskData], directory: Path, labels: str) -> Project:
    """A copy of the trained project whose shipml.toml has the `[labels]` table `labels`."""
    shutil.copytree(trained[0], directory)
    settings = directory / "shipml.toml"
    settings.write_text(settings.read_text() + "\n" + labels + LABELS)
    return Project.load(directory)


def the_log(project: Project) -> LoggedWindow:
    (logged,) = logged_windows(project.root, project.name)
    return logged


def sorted_rows(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """The rows in `by` order, without the run id (each run has its own)."""
    rows = frame.drop(columns=[c for c in ("run_id", "_run_id") if c in frame])
    return rows.sort_values(by).reset_index(drop=True)


def write_labels(project: Project, data: TaskData, output: pd.DataFrame, key: str) -> None:
    """Labels for 40 of the 60 predictions, 2 of them repeated, and 3 for unknown keys."""
    truth = data.frame.set_index("id")[data.label]
    known = output.sort_values("id").iloc[:40]
    labels = pd.DataFrame({key: known[key], data.label: truth.loc[known["id"]].to_numpy()})
    unknown = pd.DataFrame({key: ["missing-1", "missing-2", "missing-3"], data.label: "benign"})
    rows = pd.concat([labels, labels.iloc[:2], unknown], ignore_index=True)
    rows.assign(labelled_at=(LATER + WINDOW).isoformat()).to_csv(
        project.root / "data" / "labels.csv", index=False
    )


def ingest(project: Project) -> LabelIngest:
    return ingest_labels(project, WINDOW_START, LATER + 2 * WINDOW, now=LATER + timedelta(days=2))


def score_both(
    trained: tuple[Path, TaskData], tmp_path: Path, labels: str, engine: DaskEngine
) -> tuple[Project, WindowOutcome, Project, WindowOutcome]:
    """The window scored in one copy of the project locally, in another on Dask."""
    local_project = logged_copy(trained, tmp_path / "local", labels)
    dask_project = logged_copy(trained, tmp_path / "dask", labels)
    local = run_window(local_project, SCORED)
    dask = run_window(dask_project, SCORED, engine=engine)
    assert local.status == dask.status == "succeeded"
    return local_project, local, dask_project, dask


def assert_same_ingest(local: LabelIngest, dask: LabelIngest) -> None:
    """The same counts, and the same realized performance of the window."""
    assert dask.counts == local.counts
    assert (local.matched, local.duplicates, local.unmatched) == (40, 2, 3)
    (local_record,) = local.records
    (dask_record,) = dask.records
    assert local_record.judged and local_record.labels == 40
    assert (dask_record.labels, dask_record.predictions) == (40, 60)
    assert dask_record.metrics == pytest.approx(local_record.metrics)
    assert dask_record.judged == local_record.judged


@pytest.mark.parametrize("labels", [GENERATED, KEYED], ids=["generated-ids", "key-column"])
def test_a_dask_window_is_logged_and_labelled_as_a_local_one(
    trained: tuple[Path, TaskData], tmp_path: Path, engine: DaskEngine, labels: str
) -> None:
    local_project, local, dask_project, dask = score_both(trained, tmp_path, labels, engine)
    key = "id" if labels == KEYED else "prediction_id"

    local_log, dask_log = the_log(local_project), the_log(dask_project)
    assert local_log.path.is_file() and dask_log.path.is_dir()
    assert len(list(dask_log.path.iterdir())) == 4  # one part per partition
    assert dask_log.name == local_log.name == SCORED.key
    pd.testing.assert_frame_equal(
        sorted_rows(dask_log.read(), key), sorted_rows(local_log.read(), key)
    )
    local_output, dask_output = pd.read_parquet(local.output), pd.read_parquet(dask.output)
    pd.testing.assert_frame_equal(sorted_rows(dask_output, "id"), sorted_rows(local_output, "id"))
    assert ("prediction_id" in dask_output) == (labels == GENERATED)
    data = trained[1]
    for project in (local_project, dask_project):
        write_labels(project, data, local_output, key)

    assert_same_ingest(ingest(local_project), ingest(dask_project))
    assert dask_log.labels_path.is_file()


def test_with_a_sql_output_the_rows_scored_on_dask_carry_the_local_ids(
    trained: tuple[Path, TaskData], tmp_path: Path, engine: DaskEngine
) -> None:
    sql = '[output]\nkind = "sql"\nurl = "sqlite:///scores.db"\ntable = "scores"\n'
    local_project, _, dask_project, _ = score_both(trained, tmp_path, sql + GENERATED, engine)

    local_rows, dask_rows = (
        pd.read_sql_table("scores", create_engine(f"sqlite:///{p.root / 'scores.db'}"))
        for p in (local_project, dask_project)
    )
    assert dask_rows["prediction_id"].is_unique and len(dask_rows) == 60
    pd.testing.assert_frame_equal(sorted_rows(dask_rows, "id"), sorted_rows(local_rows, "id"))
    pd.testing.assert_frame_equal(
        sorted_rows(the_log(dask_project).read(), "prediction_id"),
        sorted_rows(the_log(local_project).read(), "prediction_id"),
    )


def test_the_cli_ingests_labels_of_a_dask_window_with_generated_ids(
    trained: tuple[Path, TaskData], tmp_path: Path, engine: DaskEngine
) -> None:
    local_project, _, dask_project, dask = score_both(trained, tmp_path, GENERATED, engine)
    output = pd.read_parquet(dask.output)
    counts = []
    for project in (local_project, dask_project):
        write_labels(project, trained[1], output, "prediction_id")
        found = CliRunner().invoke(
            app,
            [
                "labels", "ingest", "--project", str(project.root), "--json",
                "--start", WINDOW_START.isoformat(), "--end", (LATER + 2 * WINDOW).isoformat(),
            ],
        )  # fmt: skip
        assert found.exit_code == 0, found.output
        counts.append(json.loads(found.stdout))

    assert counts[0]["matched"] == counts[1]["matched"] == 40
    assert _counts(counts[1]) == _counts(counts[0])


def test_a_window_logged_on_dask_is_replaced_by_a_local_rerun_and_purged_whole(
    trained: tuple[Path, TaskData], tmp_path: Path, engine: DaskEngine
) -> None:
    project = logged_copy(trained, tmp_path / "project", GENERATED)
    dask = run_window(project, SCORED, engine=engine)
    write_labels(project, trained[1], pd.read_parquet(dask.output), "prediction_id")
    assert ingest(project).matched == 40
    on_dask = the_log(project)

    run_window(project, SCORED, force=True)

    rerun = the_log(project)
    assert rerun.path == on_dask.path and rerun.path.is_file()
    assert list(rerun.path.parent.iterdir()) == [rerun.path]  # nothing staged or set aside
    run_window(project, SCORED, engine=engine, force=True)
    assert the_log(project).path.is_dir()
    assert rerun.labels_path.is_file()

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert purge(project.root, project.name, timedelta(hours=1), now=tomorrow) == 1
    assert logged_windows(project.root, project.name) == []
    assert not rerun.path.exists() and not rerun.labels_path.exists()


def test_a_failed_rerun_on_dask_leaves_the_earlier_log_and_nothing_staged(
    trained: tuple[Path, TaskData], tmp_path: Path, engine: DaskEngine
) -> None:
    project = logged_copy(trained, tmp_path / "project", GENERATED)
    run_window(project, SCORED, engine=engine)
    logged = the_log(project)
    before = logged.read()
    model = project.tracker.load(project.settings.model.alias)
    broken = dataclasses.replace(model, model="not a model")

    with pytest.raises(WindowFailed):
        run_window(project, SCORED, model=broken, engine=engine, force=True)

    assert list(logged.path.parent.iterdir()) == [logged.path]
    pd.testing.assert_frame_equal(the_log(project).read(), before)


def test_the_challengers_predictions_on_dask_are_logged_and_judged_as_local_ones(
    trained: tuple[Path, TaskData], tmp_path: Path, engine: DaskEngine
) -> None:
    base = logged_copy(trained, tmp_path / "base", "[model]\nchallenger_in_batch = true\n" + KEYED)
    root = str(base.root)
    version = _cli("train", "--project", root)["model"]["version"]
    _cli("promote", version, "--alias", "challenger", "--force", "--project", root)
    for engine_name in ("local", "dask"):
        shutil.copytree(base.root, tmp_path / engine_name)
    local_project, dask_project = Project.load(tmp_path / "local"), Project.load(tmp_path / "dask")
    local = run_window(local_project, SCORED)
    dask = run_window(dask_project, SCORED, engine=engine)
    assert local.challenger is not None and dask.challenger is not None
    assert dask.challenger.error is None and dask.challenger.version == version

    pipeline = f"{base.name}.challenger"
    (local_log,) = logged_windows(local_project.root, pipeline)
    (dask_log,) = logged_windows(dask_project.root, pipeline)
    assert dask_log.path.is_dir()
    pd.testing.assert_frame_equal(
        sorted_rows(dask_log.read(), "id"), sorted_rows(local_log.read(), "id")
    )
    output = pd.read_parquet(local.output)
    for project in (local_project, dask_project):
        write_labels(project, trained[1], output, "id")
    local_ingest, dask_ingest = ingest(local_project), ingest(dask_project)

    assert dask_ingest.counts == local_ingest.counts
    (local_record,) = local_ingest.challenger_records
    (dask_record,) = dask_ingest.challenger_records
    assert (dask_record.model_version, dask_record.labels) == (version, 40)
    assert dask_record.labels == local_record.labels
    assert dask_record.metrics == pytest.approx(local_record.metrics)


def _cli(*arguments: str) -> Any:
    outcome = CliRunner().invoke(app, [*arguments, "--json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


def _counts(found: dict[str, Any]) -> tuple[int, ...]:
    return tuple(found[n] for n in ("labels_read", "matched", "duplicates", "unmatched"))
