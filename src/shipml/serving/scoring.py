"""Scoring a batch of requests: their records scored as one frame, each gets its own answer.

The online flow runs once on all records, with every boundary set to quarantine, so an
invalid record is set aside instead of failing the frame. The frame's index (0..n-1 over
the concatenated records) travels through the steps, so each output row and each set-aside
row is traced back to the request it came from. A request with a set-aside record is run
again on its own, which yields its own validation report (row numbers and example values of
its records only, never another caller's). When the frame cannot be scored together (a step
raised, or a step renumbered the rows), every request is run on its own.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from shipml.contracts import (
    ContractViolation,
    ValidationReport,
    refused_record_report,
    validate,
)
from shipml.pipeline import (
    BoundaryOutcome,
    BoundaryPolicy,
    Flow,
    FlowFailed,
    FlowResult,
    Pipeline,
    Policies,
    StepTiming,
    run_flow,
)
from shipml.serving.model import ServedModel
from shipml.serving.shapes import Record
from shipml.versioning.tracking import ModelRef

log = logging.getLogger(__name__)

# Every boundary sets invalid rows aside, whatever their share: one caller's bad records
# must not fail the others'.
PER_ROW = Policies(default=BoundaryPolicy("quarantine", 1.0))


@dataclass(frozen=True)
class Scored:
    """The request's output rows, in the order of its records."""

    rows: list[Record]
    model: ModelRef


@dataclass(frozen=True)
class Rejected:
    """The request's records broke the contract at `boundary`; the report says how."""

    boundary: str
    report: ValidationReport
    model: ModelRef


@dataclass(frozen=True)
class Failed:
    """A step raised on the request's records (a fault of the pipeline, not of the input)."""

    step: str
    error: str  # the exception's type, for the caller
    model: ModelRef
    traceback: str  # for the log only


Outcome = Scored | Rejected | Failed


@dataclass
class BatchResult:
    """One outcome per request, plus what the flow runs measured and produced."""

    outcomes: list[Outcome]
    steps: list[StepTiming] = field(default_factory=list)
    features: list[pd.DataFrame] = field(default_factory=list)  # what predict got, per run
    predictions: list[pd.DataFrame] = field(default_factory=list)  # what predict returned


@dataclass(frozen=True)
class _Run:
    output: pd.DataFrame
    features: pd.DataFrame
    predictions: pd.DataFrame
    steps: list[StepTiming]
    boundaries: list[BoundaryOutcome]


class Scorer:
    """Runs a pipeline's online flow on the records of a batch of requests."""

    def __init__(self, pipeline: Pipeline) -> None:
        # Scoring and postprocessing run apart, so that the features the predict step
        # received (the monitoring baseline's features) are at hand.
        self._scoring = Flow("online", (*pipeline.transforms, pipeline.predict))
        post = pipeline.postprocess
        self._postprocess = Flow("online", (post,)) if post is not None else None
        self._warned_of_renumbering = False
        first = self._scoring.steps[0]
        self._input = first.input if first.data_parameter is not None else None
        self._input_boundary = f"{first.name}.input"

    def score(self, model: ServedModel, requests: Sequence[list[Record]]) -> BatchResult:
        """One outcome per request, in order.

        Requests whose records break the input contract are answered from their own
        validation, without running a step: they never take the batch off its fast path.
        """
        result = BatchResult(outcomes=[])
        screened = [self._screened(model, records) for records in requests]
        passed = [r for r, rejected in zip(requests, screened, strict=True) if rejected is None]
        outcomes = self._score(model, passed, result) if passed else []
        scored = iter(outcomes)
        result.outcomes = [next(scored) if r is None else r for r in screened]
        return result

    def _score(
        self, model: ServedModel, requests: Sequence[list[Record]], result: BatchResult
    ) -> list[Outcome]:
        if len(requests) > 1:
            together = self._together(model, requests, result)
            if together is not None:
                return together
        return [self._alone(model, records, result) for records in requests]

    def _screened(self, model: ServedModel, records: list[Record]) -> Rejected | None:
        """The rejection of records that break the input contract; None for the others.

        Pydantic decides first, in microseconds. Only for records it refuses does the
        contracts engine validate them (the verdict and report the flow would give, with the
        same diagnoses); records the engine accepts after all (it reads records as a frame)
        go on to the flow like the others. A lone refused record (most requests) has its
        report written from the fields Pydantic named (`refused_record_report`: the same
        report, without a frame or a check of every column in the common cases).
        """
        contract = self._input
        if contract is None:
            return None
        try:
            for record in records:
                contract.model_validate(record)
        except ValidationError as error:
            refused = error
        else:
            return None
        try:
            if len(records) == 1:
                report = refused_record_report(records[0], contract, refused)
            else:
                report = _frame_report(records, contract)
        except Exception:  # the flow will meet the same problem and say what it is
            return None
        if report is None:  # the engine accepts what Pydantic refused (it reads a frame)
            return None
        return Rejected(self._input_boundary, report, model.ref)

    def _together(
        self, model: ServedModel, requests: Sequence[list[Record]], result: BatchResult
    ) -> list[Outcome] | None:
        """Outcomes from one run over all records; None when each must run on its own."""
        starts = np.cumsum([0, *(len(records) for records in requests)])[:-1]
        try:
            frame = pd.DataFrame(list(chain.from_iterable(requests)))
            run = self._run(model, frame)
        except Exception:
            return None  # somebody's records broke a step: find whose
        owners = _owners(run.output.index, starts, len(frame))
        set_aside = [_owners(b.quarantined.index, starts, len(frame)) for b in run.boundaries]
        if owners is None or any(o is None for o in set_aside):
            self._warn_of_renumbering()
            return None
        rejected = set(chain.from_iterable(o for o in set_aside if o is not None))
        rows_by_request = _group(_rows(run.output), owners, len(requests))
        outcomes: list[Outcome] = []
        for position, records in enumerate(requests):
            if position in rejected:
                outcomes.append(self._alone(model, records, result))
            else:
                outcomes.append(Scored(rows_by_request[position], model.ref))
        result.steps += run.steps
        kept = np.isin(owners, sorted(rejected), invert=True)
        _keep_for_monitoring(result, run, kept)
        return outcomes

    def _alone(self, model: ServedModel, records: list[Record], result: BatchResult) -> Outcome:
        """The outcome of one request scored by itself."""
        try:
            run = self._run(model, pd.DataFrame(records))
        except FlowFailed as failure:
            result.steps += failure.result.steps
            rejection = _first_rejection(failure.result.boundaries, model.ref)
            error = type(failure.error).__name__
            return rejection or Failed(failure.step, error, model.ref, failure.traceback)
        except Exception as error:  # a fault outside the steps must not take the server down
            trace = "".join(traceback.format_exception(error))
            return Failed("(scoring)", type(error).__name__, model.ref, trace)
        result.steps += run.steps
        rejection = _first_rejection(run.boundaries, model.ref)
        if rejection is not None:
            return rejection
        _keep_for_monitoring(result, run, None)
        return Scored(_rows(run.output), model.ref)

    def _warn_of_renumbering(self) -> None:
        if not self._warned_of_renumbering:
            log.warning(
                "a step renumbered the rows: scoring each request of a batch alone (slower); "
                "keep the frame's index in the transforms to batch requests"
            )
            self._warned_of_renumbering = True

    def _run(self, model: ServedModel, frame: pd.DataFrame) -> _Run:
        context = model.loaded.scoring_context()
        scored = run_flow(self._scoring, frame, context=context, policies=PER_ROW)
        assert scored.last_input is not None  # predict always takes a frame
        if self._postprocess is None:
            return _Run(
                scored.output, scored.last_input, scored.output, scored.steps, scored.boundaries
            )
        try:
            post = run_flow(self._postprocess, scored.output, context=context, policies=PER_ROW)
        except FlowFailed as failure:
            raise FlowFailed(
                failure.step, failure.error, _joined(scored, failure.result), failure.boundary
            ) from failure.error
        joined = _joined(scored, post)
        return _Run(post.output, scored.last_input, scored.output, joined.steps, joined.boundaries)


def _frame_report(records: list[Record], contract: type[BaseModel]) -> ValidationReport | None:
    """The engine's report on the frame of `records`; None when it accepts them."""
    try:
        # Under "fail", a frame with an invalid row raises as soon as its report is written,
        # without building the frames of valid and set-aside rows (most of the time).
        validate(pd.DataFrame(records), contract, policy="fail")
    except ContractViolation as violation:
        return violation.report
    return None


def _joined(first: FlowResult, second: FlowResult) -> FlowResult:
    return FlowResult(
        output=second.output,
        rows_in=first.rows_in,
        steps=[*first.steps, *second.steps],
        boundaries=[*first.boundaries, *second.boundaries],
    )


def _owners(index: pd.Index, starts: np.ndarray, rows: int) -> np.ndarray | None:
    """The request of each row label, or None when the labels are not the batch's positions."""
    if len(index) == 0:
        return np.empty(0, dtype=np.intp)
    if not pd.api.types.is_integer_dtype(index.dtype) or index.has_duplicates:
        return None
    labels = index.to_numpy()
    if labels.min() < 0 or labels.max() >= rows:
        return None
    return np.searchsorted(starts, labels, side="right") - 1


def _rows(frame: pd.DataFrame) -> list[Record]:
    """The frame's rows as dicts of Python values, missing ones None (faster than `to_dict`)."""
    if frame.shape[1] == 0:
        return [{} for _ in range(len(frame))]
    names = [str(name) for name in frame.columns]
    columns = [[_present(v) for v in column.tolist()] for _, column in frame.items()]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _present(value: Any) -> Any:
    """`value`, or None when it stands for a missing one (NaN, NaT, pd.NA)."""
    if value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _group(rows: list[Record], owners: np.ndarray, requests: int) -> list[list[Record]]:
    grouped: list[list[Record]] = [[] for _ in range(requests)]
    for row, owner in zip(rows, owners.tolist(), strict=True):
        grouped[owner].append(row)
    return grouped


def _first_rejection(boundaries: list[BoundaryOutcome], model: ModelRef) -> Rejected | None:
    for boundary in boundaries:
        if not boundary.report.ok:
            return Rejected(boundary.boundary, boundary.report, model)
    return None


def _keep_for_monitoring(result: BatchResult, run: _Run, kept: np.ndarray | None) -> None:
    """Add the run's features and predictions of answered requests (`kept` output rows)."""
    predictions = run.predictions
    if kept is not None and not kept.all():
        labels = run.output.index[kept]
        predictions = predictions[predictions.index.isin(labels)]
    features = run.features
    if not features.index.equals(predictions.index):
        features = features[features.index.isin(predictions.index)]
    result.predictions.append(predictions)
    result.features.append(features)
