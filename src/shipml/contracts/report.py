"""What a validation found: failures per column and rule, diagnoses, null counts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

MAX_EXAMPLES = 5


class Example(BaseModel):
    """One offending value and its row position (0-based, in the frame as received)."""

    row: int
    value: Any


class RuleFailure(BaseModel):
    """A rule broken by `count` rows of one column."""

    column: str
    rule: str
    message: str
    count: int
    examples: list[Example] = Field(default_factory=list)


DiagnosisKind = Literal["renamed_column", "date_format", "null_rate", "missing_column", "dtype"]


class Diagnosis(BaseModel):
    """A likely cause on top of the raw failures, e.g. a column renamed upstream."""

    kind: DiagnosisKind
    column: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ValidationReport(BaseModel):
    """The outcome of validating one frame against one contract (JSON-serialisable)."""

    contract: str
    rows: int
    invalid_rows: int = 0
    failures: list[RuleFailure] = Field(default_factory=list)
    diagnoses: list[Diagnosis] = Field(default_factory=list)
    null_counts: dict[str, int] = Field(default_factory=dict)
    missing_columns: list[str] = Field(default_factory=list)
    unexpected_columns: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row satisfies the contract."""
        return self.invalid_rows == 0 and not self.failures

    @property
    def valid_rows(self) -> int:
        """Rows that satisfy the contract."""
        return self.rows - self.invalid_rows

    def summary(self) -> str:
        """A few lines for an exception message or a log line."""
        if self.ok:
            return f"{self.contract}: all {self.rows} rows valid"
        lines = [f"{self.contract}: {self.invalid_rows} of {self.rows} rows invalid"]
        lines += [f"  - {d.message}" for d in self.diagnoses]
        for failure in self.failures:
            shown = ", ".join(f"row {e.row}: {e.value!r}" for e in failure.examples[:3])
            lines.append(
                f"  - {failure.column}: {failure.message} ({failure.count} rows"
                + (f"; {shown}" if shown else "")
                + ")"
            )
        return "\n".join(lines)

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return self.model_dump_json(indent=indent)

    def __rich__(self) -> RenderableType:
        return _render(self)


def _render(report: ValidationReport) -> RenderableType:
    if report.ok:
        return Text(f"✓ {report.contract}: all {report.rows} rows valid", style="green")
    parts: list[RenderableType] = [
        Text(
            f"✗ {report.contract}: {report.invalid_rows} of {report.rows} rows invalid",
            style="bold red",
        )
    ]
    for diagnosis in report.diagnoses:
        parts.append(Text(f"  ⚠ {diagnosis.message}", style="yellow"))
    if report.failures:
        table = RichTable(show_header=True, header_style="bold", expand=False)
        for name in ("column", "rule", "rows", "examples (row: value)", "message"):
            table.add_column(name, overflow="fold")
        for failure in report.failures:
            examples = ", ".join(f"{e.row}: {e.value!r}" for e in failure.examples)
            table.add_row(
                failure.column, failure.rule, str(failure.count), examples, failure.message
            )
        parts.append(table)
    return Group(*parts)
