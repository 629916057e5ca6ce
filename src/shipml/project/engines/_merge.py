"""Merge the partitions' flow results into the one result the whole window would have given.

Partitions are consecutive slices of the window, in order. Each ran every boundary with its
invalid rows set aside; the boundary policies are applied here, to the whole window's counts,
so a window fails exactly where and how the local engine would have failed it.

- Reports: rows, invalid rows, rule counts and null counts add up; row positions are shifted
  by the rows the earlier partitions had at the same boundary; each rule keeps its first
  `MAX_EXAMPLES` examples by row. Failures are listed in the contract's field order, as
  `validate` lists them, and within a column in the order the partitions agree on. Only the
  order can differ from a local run's, never a count: two rules of one column that failed
  only in different partitions (e.g. "null" in a later one), or, for a contract Pydantic
  validates row by row (aliases, before validators), two columns in that case.
- Diagnoses are computed per partition, then deduplicated by (kind, column), the earliest
  partition's kept. They can differ from the whole window's: a date format that switches
  exactly between two partitions shows as one format per partition (one may be reported as
  "holds American dates" rather than "switched at row N"), and a null-rate surge is judged
  on the partition's rows, not the window's. Row numbers in `details` are shifted to the
  window; the message of a diagnosis from a later partition says where its rows count from.
- Step timings: durations and row counts add up (the work done, comparable to a local
  run's); `started_at` is the earliest partition's.
- Outputs, quarantined rows and kept frames (what monitoring profiles) are the partitions'
  frames concatenated here, in row order. A failed run's result holds no frames. Partitions
  that wrote their output and profiled their kept frames themselves (a window's, see
  `_worker.run_window_partition`) send neither: the merged result then has no output and
  no kept frames. Quarantined rows keep their row number in the window: partitions that
  numbered their rows from 0 are shifted by `row_offsets`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

import pandas as pd

from shipml.contracts import (
    REASONS_COLUMN,
    ContractViolation,
    Diagnosis,
    Example,
    RuleFailure,
    ValidationReport,
)
from shipml.contracts.report import MAX_EXAMPLES
from shipml.errors import FlowFailed
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.runner import (
    BoundaryOutcome,
    BoundaryPolicy,
    FlowResult,
    Policies,
    StepObserver,
    StepTiming,
)
from shipml.pipeline.step import Step
from shipml.project.engines._worker import PartitionFailure, PartitionOutcome

_Key = TypeVar("_Key", bound=Hashable)
_ROW_DETAILS = ("switch_row", "switch_earliest_row")  # diagnosis details holding row positions


def merge_partitions(
    flow: Flow,
    partitions: Sequence[PartitionOutcome],
    policies: Policies,
    on_step: StepObserver | None = None,
    row_offsets: Sequence[int] | None = None,
) -> FlowResult:
    """The window's result from its partitions' (in row order); raise `FlowFailed` as run_flow.

    `on_step` is called for each step as its partition results are merged. `row_offsets`:
    where each partition's rows start in the window, when they were numbered from 0.
    """
    merged = FlowResult(rows_in=sum(p.result.rows_in for p in partitions))
    offsets = row_offsets or [0] * len(partitions)
    for position, s in enumerate(flow.steps):
        if on_step is not None:
            on_step(s, position, len(flow.steps))
        _pass_boundary(f"{s.name}.input", s, partitions, policies, merged, offsets)
        _raise_failure(s, None, partitions, merged)
        _pass_boundary(f"{s.name}.output", s, partitions, policies, merged, offsets)
        merged.steps.append(_merge_timings([p.result.steps[position] for p in partitions]))
    outputs = [p.result.output for p in partitions]
    merged.output = None if any(o is None for o in outputs) else concat_frames(outputs)
    names = partitions[0].result.kept.keys()
    merged.kept = {n: concat_frames([p.result.kept[n] for p in partitions]) for n in names}
    merged.last_input = _last_input(partitions, merged)
    return merged


def merge_reports(
    reports: Sequence[ValidationReport], fields: Sequence[str] = ()
) -> ValidationReport:
    """One report for consecutive slices of a frame, as if the whole frame had been validated.

    `fields` are the contract's field names in order: `validate` reports the failures of a
    column-checked contract field by field, so failures seen in different slices follow them.
    """
    offsets = _offsets([r.rows for r in reports])
    keys = _ordered_union([(f.column, f.rule, f.message) for f in r.failures] for r in reports)
    rank = {name: position for position, name in enumerate(fields)}
    keys.sort(key=lambda key: rank.get(key[0], len(rank)))
    failures = [_merge_failure(key, reports, offsets) for key in keys]
    null_columns = _ordered_union(r.null_counts.keys() for r in reports)
    first = reports[0]
    return ValidationReport(
        contract=first.contract,
        rows=sum(r.rows for r in reports),
        invalid_rows=sum(r.invalid_rows for r in reports),
        failures=failures,
        diagnoses=_merge_diagnoses(reports, offsets),
        null_counts={c: sum(r.null_counts.get(c, 0) for r in reports) for c in null_columns},
        missing_columns=_ordered_union(r.missing_columns for r in reports),
        unexpected_columns=_ordered_union(r.unexpected_columns for r in reports),
    )


def concat_frames(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The frames one after the other; empty ones are left out (their dtypes may be looser)."""
    filled = [f for f in frames if len(f)]
    if len(filled) == 1:
        return filled[0]
    return pd.concat(filled) if filled else frames[0]


def _pass_boundary(
    boundary: str,
    s: Step,
    partitions: Sequence[PartitionOutcome],
    policies: Policies,
    merged: FlowResult,
    offsets: Sequence[int],
) -> None:
    """Merge the boundary's outcomes and apply its policy (nothing when it was not checked)."""
    _raise_failure(s, boundary, partitions, merged)
    outcomes = [_outcome(p, boundary) for p in partitions]
    if all(o is None for o in outcomes):
        return
    if any(o is None for o in outcomes):
        raise RuntimeError(f"some partitions did not validate boundary {boundary}")
    contract = s.input if boundary.endswith(".input") else s.output
    fields = list(contract.model_fields) if contract is not None else []
    report = merge_reports([o.report for o in outcomes if o is not None], fields)
    quarantined = [
        _renumbered(o.quarantined, offset)
        for o, offset in zip(outcomes, offsets, strict=True)
        if o is not None
    ]
    violation = _violation(report, policies.for_boundary(boundary))
    if violation is not None:
        empty = quarantined[0].iloc[:0].drop(columns=[REASONS_COLUMN], errors="ignore")
        merged.boundaries.append(
            BoundaryOutcome(boundary, report, empty.assign(**{REASONS_COLUMN: []}))
        )
        raise FlowFailed(s.name, violation, merged, boundary) from violation
    merged.boundaries.append(BoundaryOutcome(boundary, report, concat_frames(quarantined)))


def _renumbered(rows: pd.DataFrame, offset: int) -> pd.DataFrame:
    """Rows numbered from `offset` instead of 0 (row numbers are the window's)."""
    if not offset or not len(rows) or not pd.api.types.is_integer_dtype(rows.index):
        return rows
    return rows.set_axis(rows.index + offset)


def _outcome(partition: PartitionOutcome, boundary: str) -> BoundaryOutcome | None:
    return next((b for b in partition.result.boundaries if b.boundary == boundary), None)


def _violation(report: ValidationReport, policy: BoundaryPolicy) -> ContractViolation | None:
    """What `validate` raises for this report under `policy` (same rule, same message)."""
    if report.ok:
        return None
    if policy.policy == "fail":
        return ContractViolation(report)
    if policy.policy != "quarantine":
        raise ValueError(f"unknown policy {policy.policy!r}: expected 'fail' or 'quarantine'")
    fraction = report.invalid_rows / max(report.rows, 1)
    if fraction > policy.max_invalid_fraction:
        return ContractViolation(
            report,
            f"{fraction:.1%} of rows invalid, above the quarantine limit "
            f"of {policy.max_invalid_fraction:.1%}",
        )
    return None


def _raise_failure(
    s: Step, boundary: str | None, partitions: Sequence[PartitionOutcome], merged: FlowResult
) -> None:
    """Raise the first partition's failure at this step (and boundary), as run_flow would."""
    failure = next((f for f in map(_failure, partitions) if _failed_at(f, s, boundary)), None)
    if failure is None:
        return
    failed = FlowFailed(failure.step, failure.error, merged, failure.boundary)
    failed.traceback = failure.traceback  # the worker's: the exception lost its own in transit
    raise failed from failure.error


def _failure(partition: PartitionOutcome) -> PartitionFailure | None:
    return partition.failure


def _failed_at(failure: PartitionFailure | None, s: Step, boundary: str | None) -> bool:
    return failure is not None and failure.step == s.name and failure.boundary == boundary


def _merge_timings(timings: Sequence[StepTiming]) -> StepTiming:
    first = timings[0]
    return StepTiming(
        step=first.step,
        position=first.position,
        started_at=min(t.started_at for t in timings),
        duration_s=sum(t.duration_s for t in timings),
        rows_in=sum(t.rows_in for t in timings),
        rows_out=sum(t.rows_out for t in timings),
    )


def _last_input(partitions: Sequence[PartitionOutcome], merged: FlowResult) -> pd.DataFrame | None:
    """The rows the last step received: a kept frame, or the partitions' own copies."""
    kept_as = partitions[0].last_input_kept
    if kept_as is not None:
        return merged.kept[kept_as]
    frames = [p.result.last_input for p in partitions]
    if any(f is None for f in frames):
        return None
    return concat_frames([f for f in frames if f is not None])


def _offsets(rows: Sequence[int]) -> list[int]:
    """Where each slice starts in the whole frame."""
    starts, total = [], 0
    for count in rows:
        starts.append(total)
        total += count
    return starts


def _merge_failure(
    key: tuple[str, str, str], reports: Sequence[ValidationReport], offsets: Sequence[int]
) -> RuleFailure:
    column, rule, message = key
    found = [
        (offset, f)
        for report, offset in zip(reports, offsets, strict=True)
        for f in report.failures
        if (f.column, f.rule, f.message) == key
    ]
    examples = [
        Example(row=e.row + offset, value=e.value) for offset, f in found for e in f.examples
    ]
    return RuleFailure(
        column=column,
        rule=rule,
        message=message,
        count=sum(f.count for _, f in found),
        examples=examples[:MAX_EXAMPLES],
    )


def _merge_diagnoses(
    reports: Sequence[ValidationReport], offsets: Sequence[int]
) -> list[Diagnosis]:
    chosen: dict[tuple[str, str], Diagnosis] = {}
    for report, offset in zip(reports, offsets, strict=True):
        for diagnosis in report.diagnoses:
            key = (diagnosis.kind, diagnosis.column)
            if key not in chosen:
                chosen[key] = _shifted(diagnosis, offset)
    return list(chosen.values())


def _shifted(diagnosis: Diagnosis, offset: int) -> Diagnosis:
    """The diagnosis with its row positions counted from the window's first row."""
    rows = {k: v for k, v in diagnosis.details.items() if k in _ROW_DETAILS and v is not None}
    if not offset or not rows:
        return diagnosis
    details = {**diagnosis.details, **{k: v + offset for k, v in rows.items()}}
    note = f" (rows counted within the partition starting at window row {offset})"
    return diagnosis.model_copy(update={"message": diagnosis.message + note, "details": details})


def _ordered_union(sequences: Iterable[Iterable[_Key]]) -> list[_Key]:
    """Every key once, in an order each sequence agrees with where possible.

    A key not seen before goes just before the next key of its own sequence already placed
    (at the end when there is none): [le] then [null, le] gives [null, le].
    """
    merged: list[_Key] = []
    for sequence in map(list, sequences):
        for position, key in enumerate(sequence):
            if key in merged:
                continue
            later = next((k for k in sequence[position + 1 :] if k in merged), None)
            merged.insert(merged.index(later) if later is not None else len(merged), key)
    return merged
