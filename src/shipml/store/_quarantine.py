"""Validation reports and quarantined rows of a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pandas as pd
from pydantic import BaseModel
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from shipml.store._bulk import insert_rows
from shipml.store._checks import check_count, check_text
from shipml.store._json import frame_payloads, json_safe
from shipml.store.records import ValidationRecord
from shipml.store.schema import QuarantinedRow, ValidationReportRow

REASONS_COLUMN = "_reasons"
BOUNDARY_COLUMN = "_boundary"
POSITION_INDEX = "row_position"


def report_row(run_id: str, boundary: str, report: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    """The `validation_reports` row for a report given as a dict or a pydantic model."""
    content = report.model_dump(mode="json") if isinstance(report, BaseModel) else report
    if not isinstance(content, Mapping):
        raise TypeError(
            f"report must be a mapping or a pydantic model, got {type(report).__name__}"
        )
    rows = _required_count(content, "rows")
    invalid_rows = _required_count(content, "invalid_rows")
    safe = json_safe(content)
    return {
        "run_id": run_id,
        "boundary": check_text(boundary, "boundary", 200),
        "ok": invalid_rows == 0 and not content.get("failures"),
        "rows": rows,
        "invalid_rows": invalid_rows,
        "report": safe,
    }


def quarantine_rows(run_id: str, boundary: str, quarantined: pd.DataFrame) -> list[dict[str, Any]]:
    """The `quarantined_rows` rows for a frame of invalid rows plus a `_reasons` column.

    The frame's index must hold the rows' positions in the frame as received. An empty
    frame (nothing quarantined) needs no `_reasons` column.
    """
    if len(quarantined) == 0:
        return []
    if REASONS_COLUMN not in quarantined.columns:
        raise ValueError(f"the quarantined frame has no {REASONS_COLUMN!r} column")
    if not pd.api.types.is_integer_dtype(quarantined.index.dtype):
        raise ValueError(
            "the quarantined frame's index must hold integer row positions, "
            f"got dtype {quarantined.index.dtype}"
        )
    reasons = [str(reason) for reason in quarantined[REASONS_COLUMN].tolist()]
    payloads = frame_payloads(quarantined.drop(columns=REASONS_COLUMN))
    positions = [int(position) for position in quarantined.index]
    return [
        {
            "run_id": run_id,
            "boundary": boundary,
            "row_position": position,
            "payload": payload,
            "reasons": reason,
        }
        for position, payload, reason in zip(positions, payloads, reasons, strict=True)
    ]


def write(session: Session, report: dict[str, Any], quarantined: list[dict[str, Any]]) -> None:
    """Insert one report and its quarantined rows in bulk."""
    session.execute(insert(ValidationReportRow), [report])
    # A declarative class's __table__ is typed as a FromClause; it is the class's Table.
    insert_rows(session, cast(Table, QuarantinedRow.__table__), quarantined)


def validations_of(session: Session, run_id: str) -> list[ValidationRecord]:
    """The validation reports of a run with how many rows each boundary quarantined."""
    counts = dict(
        session.execute(
            select(QuarantinedRow.boundary, func.count())
            .where(QuarantinedRow.run_id == run_id)
            .group_by(QuarantinedRow.boundary)
        ).all()
    )
    reports = session.scalars(
        select(ValidationReportRow)
        .where(ValidationReportRow.run_id == run_id)
        .order_by(ValidationReportRow.id)
    )
    return [
        ValidationRecord(
            boundary=row.boundary,
            ok=row.ok,
            rows=row.rows,
            invalid_rows=row.invalid_rows,
            quarantined_rows=counts.get(row.boundary, 0),
            report=row.report,
        )
        for row in reports
    ]


def quarantined_frame(session: Session, run_id: str, boundary: str | None) -> pd.DataFrame:
    """A run's quarantined rows: their JSON values, `_reasons`, `_boundary`, by row position."""
    query = select(
        QuarantinedRow.row_position,
        QuarantinedRow.payload,
        QuarantinedRow.reasons,
        QuarantinedRow.boundary,
    ).where(QuarantinedRow.run_id == run_id)
    if boundary is not None:
        query = query.where(QuarantinedRow.boundary == boundary)
    stored = session.execute(query.order_by(QuarantinedRow.id)).all()
    records = [
        {**payload, REASONS_COLUMN: reasons, BOUNDARY_COLUMN: row_boundary}
        for _, payload, reasons, row_boundary in stored
    ]
    index = pd.Index([row[0] for row in stored], dtype="int64", name=POSITION_INDEX)
    if not records:
        return pd.DataFrame(columns=[REASONS_COLUMN, BOUNDARY_COLUMN], index=index)
    return pd.DataFrame.from_records(records, index=index)


def _required_count(report: Mapping[str, Any], key: str) -> int:
    if report.get(key) is None:
        raise ValueError(f"the validation report has no {key!r} count")
    return int(check_count(report[key], f"report {key}") or 0)
