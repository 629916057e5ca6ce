"""Scoring one batch window: read its rows, run the flow, profile what it saw, write its output.

`score_window(engine, job)` is what `run_window` calls. An engine that does the whole of it
itself has a `score_window` method (the Dask engine: each worker reads, profiles and writes
its own partitions, so no window-sized frame reaches this process). Any other engine only
runs the flow (`Engine.run`), and the window is read, profiled and written here.

The output is committed only when asked (`ScoredWindow.commit`), after monitoring has looked
at the window, so a window that fails there leaves the previous output in place
(`ScoredWindow.discard` drops what was staged). With a prediction log (`WindowJob.log`), the
commit writes the window's keyed predictions too, and, with no `[labels] key`, the output and
the log carry the same generated `prediction_id`s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from shipml.contracts import Baseline
from shipml.io import Sink, Source
from shipml.monitoring import Profile
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.runner import FlowResult, Policies, StepObserver
from shipml.project.baselines import ModelBaselines
from shipml.project.engines._profiles import merge_profile_parts, profile_part
from shipml.project.engines.local import Engine
from shipml.project.observe import FEATURES, PREDICTIONS
from shipml.project.predictions import WindowLog, generated_ids
from shipml.windows import Window

KEPT = (FEATURES, PREDICTIONS)  # the frames monitoring profiles


@dataclass(frozen=True)
class WindowJob:
    """Everything scoring one window needs: the flow, where rows come from and go, baselines."""

    flow: Flow
    window: Window
    run_id: str
    pipeline: str
    source: Source | None  # None when the flow ingests its rows itself
    sink: Sink
    context: Mapping[str, Any]
    policies: Policies
    baselines: ModelBaselines | None = None
    output_columns: Mapping[str, Any] = field(default_factory=dict)  # added to every row
    log: WindowLog | None = None  # log the predictions with their key (a [labels] table)
    on_step: StepObserver | None = None

    @property
    def prediction_id(self) -> str | None:
        """The column of generated prediction ids the output gets (None: not logged, or keyed)."""
        return self.log.id_column if self.log is not None else None

    @property
    def validation_baselines(self) -> dict[str, Baseline] | None:
        """The input baseline by boundary, for the validation diagnoses."""
        return self.baselines.for_flow(self.flow) if self.baselines else None


@dataclass
class ScoredWindow:
    """A window's flow result (counts, timings, reports), its profile and its pending output."""

    result: FlowResult
    profile: Profile | None  # None when the model has no monitoring baseline
    rows_out: int
    data_version: str | None
    commit: Callable[[], str]  # writes (or moves into place) the output and log; its location
    discard: Callable[[], None] = lambda: None  # drops what was staged (the window failed)


@runtime_checkable
class WindowEngine(Protocol):
    """An engine that reads, runs, profiles and writes a window by itself."""

    name: str

    def score_window(self, job: WindowJob) -> ScoredWindow:
        """Score `job`'s window; its output is committed by `ScoredWindow.commit`."""
        ...


def score_window(engine: Engine, job: WindowJob) -> ScoredWindow:
    """Score `job`'s window on `engine`: by the engine itself when it can, else in this process."""
    if isinstance(engine, WindowEngine):
        return engine.score_window(job)
    frame, data_version = read_window(job)
    result = engine.run(
        job.flow,
        frame,
        context=job.context,
        policies=job.policies,
        on_step=job.on_step,
        keep=KEPT,
        baselines=job.validation_baselines,
    )
    profile = None
    if job.baselines is not None:
        profile = merge_profile_parts([profile_part(job.baselines.monitoring, result.kept)])
    output: pd.DataFrame = result.output.assign(**job.output_columns)
    if job.prediction_id is not None:
        output[job.prediction_id] = generated_ids(job.window, output.index)
    log = job.log
    keyed = None if log is None else log.keyed(result.kept[PREDICTIONS], result.kept.get(FEATURES))

    def commit() -> str:
        location = job.sink.write(
            output, pipeline=job.pipeline, window=job.window, run_id=job.run_id
        )
        if log is not None and keyed is not None:
            log.write(keyed)
        return location

    return ScoredWindow(
        result, profile, result.rows_out, data_version or result.data_version, commit
    )


def read_window(job: WindowJob) -> tuple[pd.DataFrame | None, str | None]:
    """The window's rows from the source, whole (None when the flow ingests them itself)."""
    if job.source is None:
        return None, None
    data = job.source.read(job.window)
    return data.frame, data.version
