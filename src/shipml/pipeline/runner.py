"""Run a flow on a frame: validate every boundary, time every step, count every row."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel

from shipml.contracts import (
    REASONS_COLUMN,
    Baseline,
    ContractViolation,
    Policy,
    ValidationReport,
    validate,
)
from shipml.errors import FlowFailed
from shipml.fingerprints import frame_version
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.step import Step


@dataclass(frozen=True)
class BoundaryPolicy:
    """How one boundary treats invalid rows."""

    policy: Policy = "fail"
    max_invalid_fraction: float = 0.05


@dataclass(frozen=True)
class Policies:
    """The default policy, and overrides by boundary ("preprocess" or "preprocess.input")."""

    default: BoundaryPolicy = BoundaryPolicy()
    overrides: Mapping[str, BoundaryPolicy] = field(default_factory=dict)

    def for_boundary(self, boundary: str) -> BoundaryPolicy:
        """The policy of `boundary`, e.g. "featurize.output"."""
        step_name = boundary.split(".", 1)[0]
        return self.overrides.get(boundary) or self.overrides.get(step_name) or self.default


@dataclass(frozen=True)
class StepTiming:
    """One step's run."""

    step: str
    position: int
    started_at: datetime
    duration_s: float
    rows_in: int
    rows_out: int


@dataclass(frozen=True)
class BoundaryOutcome:
    """A validation at a step boundary: its report and the rows it set aside."""

    boundary: str
    report: ValidationReport
    quarantined: pd.DataFrame


@dataclass
class FlowResult:
    """What a flow produced, and how every step and boundary went."""

    output: Any = None
    rows_in: int = 0
    data_version: str | None = None  # of the rows an ingest step produced
    last_input: pd.DataFrame | None = None  # the validated rows the last step received
    kept: dict[str, pd.DataFrame] = field(default_factory=dict)  # frames asked for by boundary
    steps: list[StepTiming] = field(default_factory=list)
    boundaries: list[BoundaryOutcome] = field(default_factory=list)

    @property
    def rows_quarantined(self) -> int:
        """Rows set aside at any boundary."""
        return sum(len(b.quarantined) for b in self.boundaries)

    @property
    def rows_invalid(self) -> int:
        """Rows that broke a contract at any boundary, set aside or not (at most `rows_in`)."""
        return min(sum(b.report.invalid_rows for b in self.boundaries), self.rows_in)

    @property
    def rows_valid(self) -> int:
        """Rows that passed every boundary: `rows_in - rows_invalid`, failed run or not."""
        return self.rows_in - self.rows_invalid

    @property
    def rows_out(self) -> int:
        """Rows in the flow's output (0 when it outputs a model)."""
        return len(self.output) if isinstance(self.output, pd.DataFrame) else 0


StepObserver = Callable[[Step, int, int], None]


def run_flow(
    flow: Flow,
    data: pd.DataFrame | None,
    *,
    context: Mapping[str, Any] | None = None,
    policies: Policies | None = None,
    on_step: StepObserver | None = None,
    keep: Collection[str] = (),
    baselines: Mapping[str, Baseline] | None = None,
) -> FlowResult:
    """Run `flow` on `data` (None when the flow starts with an ingest step).

    Every step's input and output are validated against its contracts; a boundary already
    validated with the same contract (the previous step's output) is not validated twice.
    `keep` names boundaries ("predict.input", "predict.output") whose frames the result keeps.
    `baselines` gives reference statistics by boundary, for the validation diagnoses (a null
    rate far above the training data's, a renamed column recognised by its values).
    """
    context = dict(context or {})
    policies = policies or Policies()
    result = FlowResult(rows_in=0 if data is None else len(data))
    frame, target = _split_target(flow, data)
    checked_as: type[BaseModel] | None = None
    for position, s in enumerate(flow.steps):
        if on_step is not None:
            on_step(s, position, len(flow.steps))
        if s.data_parameter is not None:
            if s is flow.steps[-1] and target is not None:
                frame = _join_target(s, frame, target)
                checked_as = None
            if s.input is not None and s.input is not checked_as:
                boundary = f"{s.name}.input"
                baseline = (baselines or {}).get(boundary)
                frame = _check_boundary(boundary, s, frame, s.input, policies, result, baseline)
        if isinstance(frame, pd.DataFrame):
            result.last_input = frame
            if f"{s.name}.input" in keep:
                result.kept[f"{s.name}.input"] = frame
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        rows_before = len(frame) if isinstance(frame, pd.DataFrame) else 0
        try:
            output = s.call(frame, context)
        except Exception as error:
            raise FlowFailed(s.name, error, result) from error
        if s.data_parameter is None:
            result.rows_in = _rows(output)
            if isinstance(output, pd.DataFrame):
                result.data_version = frame_version(output)
            output, target = _split_target(flow, output)
        if s.output is not None:
            output = _check_boundary(f"{s.name}.output", s, output, s.output, policies, result)
            checked_as = s.output
        if f"{s.name}.output" in keep and isinstance(output, pd.DataFrame):
            result.kept[f"{s.name}.output"] = output
        result.steps.append(
            StepTiming(
                step=s.name,
                position=position,
                started_at=started_at,
                duration_s=time.perf_counter() - started,
                rows_in=rows_before,
                rows_out=_rows(output),
            )
        )
        frame = output
    result.output = frame
    return result


def _rows(value: Any) -> int:
    return len(value) if isinstance(value, pd.DataFrame) else 0


def _check_boundary(
    boundary: str,
    s: Step,
    frame: Any,
    contract: type[BaseModel],
    policies: Policies,
    result: FlowResult,
    baseline: Baseline | None = None,
) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        error = TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
        raise FlowFailed(s.name, error, result, boundary)
    policy = policies.for_boundary(boundary)
    try:
        checked = validate(
            frame,
            contract,
            policy=policy.policy,
            max_invalid_fraction=policy.max_invalid_fraction,
            baseline=baseline,
        )
    except ContractViolation as violation:
        result.boundaries.append(
            BoundaryOutcome(
                boundary, violation.report, frame.iloc[:0].assign(**{REASONS_COLUMN: []})
            )
        )
        raise FlowFailed(s.name, violation, result, boundary) from violation
    result.boundaries.append(BoundaryOutcome(boundary, checked.report, checked.quarantined))
    return checked.valid


def _split_target(flow: Flow, data: Any) -> tuple[Any, pd.Series | None]:
    """Set the training target aside, so the shared transforms never see it."""
    if flow.target is None or not isinstance(data, pd.DataFrame):
        return data, None
    if flow.target not in data.columns:
        raise ValueError(
            f"training data has no target column {flow.target!r} "
            f"(columns: {', '.join(map(str, data.columns))})"
        )
    return data.drop(columns=[flow.target]), data[flow.target]


def _join_target(s: Step, frame: Any, target: pd.Series) -> Any:
    """Put the target back beside the features, row by row (the index carries the rows)."""
    if not isinstance(frame, pd.DataFrame):
        return frame
    if not frame.index.isin(target.index).all() or frame.index.has_duplicates:
        raise ValueError(
            f"the rows reaching {s.name!r} cannot be matched with their target: a transform "
            "changed the frame's index (keep the index so labels can follow their rows)"
        )
    return frame.assign(**{str(target.name): target.loc[frame.index]})
