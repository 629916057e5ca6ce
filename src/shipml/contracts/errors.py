"""Errors raised at a contract boundary."""

from __future__ import annotations

from shipml.contracts.report import ValidationReport


class ContractViolation(Exception):
    """Rows broke a contract under the `fail` policy (or beyond the quarantine limit)."""

    def __init__(self, report: ValidationReport, reason: str | None = None) -> None:
        self.report = report
        self.reason = reason
        super().__init__((f"{reason}\n" if reason else "") + report.summary())


class UnusableInput(Exception):
    """A data file that cannot be read as a table; the message is one line for the user."""
