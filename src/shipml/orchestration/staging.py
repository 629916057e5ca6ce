"""A batch window split into tasks: one per step group, handing data over as Parquet files.

Used by the Airflow DAG that `shipml airflow export --split` writes:

    stage  ->  prepare  ->  score  ->  publish

- `stage_window` reads the window's input into `<project>/.shipml/staging/<pipeline>/<window>/`
  (or returns None when the window already succeeded: every later task then does nothing);
- `run_group` runs one step group (`prepare`: ingest and transforms; `score`: predict and
  postprocess) on the previous group's Parquet file and writes its own, with what it recorded
  (step timings, validation reports, quarantined rows); a failure is recorded there too;
- `publish_window` is `run_window` with an engine that hands back what the groups recorded,
  so the run record, monitoring, output and idempotency are exactly those of an unsplit run.

Only file paths go between tasks; the data stays on disk.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from shipml.contracts import Baseline, ValidationReport
from shipml.errors import FlowFailed, StagedStepError, StagingError
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.runner import (
    BoundaryOutcome,
    FlowResult,
    Policies,
    StepObserver,
    StepTiming,
    run_flow,
)
from shipml.pipeline.step import Step
from shipml.project.baselines import ModelBaselines
from shipml.project.batch import WindowOutcome, run_window
from shipml.project.observe import FEATURES, PREDICTIONS
from shipml.project.project import HOME, Project
from shipml.versioning.tracking import LoadedModel
from shipml.windows import Window

INPUT_FILE = "input.parquet"
MANIFEST_FILE = "manifest.json"
_KEPT = (FEATURES, PREDICTIONS)


@dataclass(frozen=True)
class StepGroup:
    """Steps of the batch flow that run in one task."""

    name: str
    steps: tuple[Step, ...]


def step_groups(project: Project) -> list[StepGroup]:
    """The batch flow cut into `prepare` (ingest, transforms) and `score` (predict, postprocess)."""
    pipeline = project.pipeline
    prepare = (*((pipeline.ingest,) if pipeline.ingest else ()), *pipeline.transforms)
    score = (pipeline.predict, *((pipeline.postprocess,) if pipeline.postprocess else ()))
    groups = [StepGroup("prepare", prepare), StepGroup("score", score)]
    return [group for group in groups if group.steps]


def stage_directory(project: Project, window: Window) -> Path:
    """Where a split run of `window` keeps its files."""
    return project.root / HOME / "staging" / project.name / window.key


def stage_window(project: Project, window: Window, *, force: bool = False) -> str | None:
    """Write the window's input for the first group; None when the window already succeeded."""
    earlier = project.store.latest_window_run(project.name, window.start)
    if earlier is not None and earlier.status == "succeeded" and not force:
        return None
    directory = stage_directory(project, window)
    shutil.rmtree(directory, ignore_errors=True)  # files of an earlier, unfinished attempt
    directory.mkdir(parents=True)
    model = project.tracker.resolve(project.settings.model.alias)
    manifest = {"model_version": model.ref.version, "window_start": window.start.isoformat()}
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest))
    if project.pipeline.ingest is None:
        project.source().read(window).frame.to_parquet(directory / INPUT_FILE)
    return str(directory)


def run_group(project: Project, window: Window, group: str, previous: str | None) -> str | None:
    """Run step group `group` on the file `previous` names; return the file of its output.

    `previous` is the stage directory for the first group, the previous group's output file
    after that, and None when the window already succeeded (nothing to do).
    """
    if previous is None:
        return None
    directory = stage_directory(project, window)
    groups = step_groups(project)
    position = [g.name for g in groups].index(group)
    model = _staged_model(project, directory)
    baselines = ModelBaselines.from_json(model.baseline)
    flow = Flow("batch", groups[position].steps)
    _failure_file(directory, group).unlink(missing_ok=True)
    try:
        result = run_flow(
            flow,
            _group_input(Path(previous), position, project),
            context={**model.scoring_context(), "window": window},
            policies=project.policies(),
            keep=_KEPT,
            baselines=baselines.for_flow(project.pipeline.batch) if baselines else None,
        )
    except FlowFailed as failed:
        _save_result(directory, group, failed.result, failure=failed)
        raise
    if position > 0:
        seam = f"{flow.steps[0].name}.input"
        already_checked = flow.steps[0].input is groups[position - 1].steps[-1].output
        if already_checked:  # an unsplit run does not validate the same contract twice
            result.boundaries = [b for b in result.boundaries if b.boundary != seam]
    return _save_result(directory, group, result)


def publish_window(
    project: Project, window: Window, *, force: bool = False, trigger: str = "run"
) -> WindowOutcome:
    """Record the split run like `run_window` does, from what the groups left on disk."""
    directory = stage_directory(project, window)
    earlier = project.store.latest_window_run(project.name, window.start)
    if earlier is not None and earlier.status == "succeeded" and not force:
        return run_window(project, window)  # skipped, without loading the model
    model = _staged_model(project, directory)
    outcome = run_window(
        project,
        window,
        force=force,
        model=model,
        engine=StagedEngine(project, directory),
        trigger=trigger,
    )
    shutil.rmtree(directory, ignore_errors=True)
    return outcome


class StagedEngine:
    """An engine that runs nothing: it hands back the results the step-group tasks saved."""

    name = "local"

    def __init__(self, project: Project, directory: Path) -> None:
        self.project = project
        self.directory = directory

    def run(
        self,
        flow: Flow,
        data: pd.DataFrame | None,
        *,
        context: Mapping[str, Any],
        policies: Policies,
        on_step: StepObserver | None = None,
        keep: Collection[str] = (),
        baselines: Mapping[str, Baseline] | None = None,
    ) -> FlowResult:
        """The groups' results merged into one, as if the flow had run here."""
        merged = FlowResult()
        for position, group in enumerate(step_groups(self.project)):
            saved = _load_result(self.directory, group.name)
            if saved is None:
                raise StagingError(
                    f"step group {group.name!r} did not finish for {self.directory.name} "
                    "(see its task's log)"
                )
            result, failure = saved
            _merge(merged, result, first=position == 0)
            if failure is not None:
                raise _flow_failed(failure, merged)
        if data is not None and len(data) != merged.rows_in:
            raise StagingError(
                f"the window's input has {len(data)} rows now but {merged.rows_in} when staged; "
                "run the window again"
            )
        return merged


def _group_input(previous: Path, position: int, project: Project) -> pd.DataFrame | None:
    """The frame a group starts from: the staged input, the previous output, or nothing."""
    if position > 0:
        return pd.read_parquet(previous)
    if project.pipeline.ingest is not None:
        return None
    return pd.read_parquet(previous / INPUT_FILE)


def _staged_model(project: Project, directory: Path) -> LoadedModel:
    """The champion, which must still be the version the window was staged with."""
    manifest_file = directory / MANIFEST_FILE
    if not manifest_file.is_file():
        raise StagingError(f"{directory} has no {MANIFEST_FILE}: the stage task did not run")
    staged = json.loads(manifest_file.read_text())["model_version"]
    model = project.tracker.load(project.settings.model.alias)
    if model.ref.version != staged:
        raise StagingError(
            f"the {project.settings.model.alias} model changed from version {staged} to "
            f"{model.ref.version} during the run; run the window again"
        )
    return model


def _failure_file(directory: Path, group: str) -> Path:
    return directory / f"{group}.failed.json"


def _save_result(
    directory: Path, group: str, result: FlowResult, failure: FlowFailed | None = None
) -> str:
    """Write a group's result (and failure) next to its output file; return the output file."""
    output = directory / f"{group}.parquet"
    if failure is None:
        result.output.to_parquet(output)
    for boundary in result.boundaries:
        if len(boundary.quarantined):
            # Pickled: quarantined rows keep the invalid values as received, of any type.
            boundary.quarantined.to_pickle(_quarantine_file(directory, boundary.boundary))
    for name, frame in result.kept.items():
        frame.to_parquet(directory / f"{name}.kept.parquet")
    record: dict[str, Any] = {
        "rows_in": result.rows_in,
        "data_version": result.data_version,
        "steps": [{**asdict(t), "started_at": t.started_at.isoformat()} for t in result.steps],
        "boundaries": [
            {"boundary": b.boundary, "report": b.report.model_dump(mode="json")}
            for b in result.boundaries
        ],
        "kept": sorted(result.kept),
    }
    if failure is not None:
        record["failure"] = {
            "step": failure.step,
            "boundary": failure.boundary,
            "message": str(failure),
            "traceback": failure.traceback,
        }
        _failure_file(directory, group).write_text(json.dumps(record))
    else:
        (directory / f"{group}.json").write_text(json.dumps(record))
    return str(output)


def _load_result(directory: Path, group: str) -> tuple[FlowResult, dict[str, Any] | None] | None:
    """A group's saved result and failure (None when the group did not finish)."""
    for file in (_failure_file(directory, group), directory / f"{group}.json"):
        if file.is_file():
            record = json.loads(file.read_text())
            break
    else:
        return None
    result = FlowResult(rows_in=record["rows_in"], data_version=record["data_version"])
    result.steps = [
        StepTiming(**{**t, "started_at": datetime.fromisoformat(t["started_at"])})
        for t in record["steps"]
    ]
    result.boundaries = [
        BoundaryOutcome(
            b["boundary"],
            ValidationReport.model_validate(b["report"]),
            _read_or_empty(_quarantine_file(directory, b["boundary"])),
        )
        for b in record["boundaries"]
    ]
    result.kept = {
        name: pd.read_parquet(directory / f"{name}.kept.parquet") for name in record["kept"]
    }
    output = directory / f"{group}.parquet"
    if "failure" not in record:
        result.output = pd.read_parquet(output)
    return result, record.get("failure")


def _quarantine_file(directory: Path, boundary: str) -> Path:
    return directory / f"{boundary}.quarantined.pickle"


def _read_or_empty(file: Path) -> pd.DataFrame:
    return pd.read_pickle(file) if file.is_file() else pd.DataFrame()


def _merge(merged: FlowResult, result: FlowResult, *, first: bool) -> None:
    """Append a group's result to the results of the groups before it."""
    if first:
        merged.rows_in = result.rows_in
        merged.data_version = result.data_version
    merged.steps.extend(result.steps)
    merged.boundaries.extend(result.boundaries)
    merged.kept.update(result.kept)
    merged.output = result.output


def _flow_failed(failure: dict[str, Any], merged: FlowResult) -> FlowFailed:
    """The failure a group saved, as the runner would have raised it."""
    failed = FlowFailed(
        failure["step"], StagedStepError(failure["message"]), merged, failure["boundary"]
    )
    # The message and traceback of the original error, not of this re-creation.
    failed.args = (failure["message"],)
    failed.traceback = failure["traceback"]
    return failed
