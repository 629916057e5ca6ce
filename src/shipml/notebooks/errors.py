"""Errors of the notebook tools; each message is one line for the user.

The reading and running errors are in shipml's one error tree (`shipml.errors`); the two
conversion errors below join it (under `UsageError`, a notebook that cannot start):

    UnreadableNotebook       the file is not a Python notebook that can be read  (exit 2)
    NotebookRunUnavailable   `check --run` cannot start (optional packages, kernel)  (exit 2)
    OutputUnusable           `convert --out` cannot receive the project  (exit 2)
    NotConvertible           the notebook cannot be converted: `blockers`, by cell  (exit 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shipml.errors import NotebookRunUnavailable, UnreadableNotebook, UsageError

__all__ = [
    "Blocker",
    "NotConvertible",
    "NotebookRunUnavailable",
    "OutputUnusable",
    "UnreadableNotebook",
]


class OutputUnusable(UsageError):
    """The output directory cannot receive the project; the message says why."""


@dataclass(frozen=True)
class Blocker:
    """A reason why a cell cannot be converted, at a line of that cell when known.

    `kind` is the name `shipml notebook check` gives the same problem (a FindingKind value).
    """

    cell: int
    line: int | None
    reason: str
    kind: str = "not_convertible"

    def __str__(self) -> str:
        where = f"cell {self.cell}" + (f" line {self.line}" if self.line else "")
        return f"{where}: {self.kind}: {self.reason}"


class NotConvertible(UsageError):
    """The notebook cannot be converted; `blockers` say why, cell by cell (exit 1: the CLI
    lists them; the notebook, not its file, needs changing)."""

    exit_code = 1

    def __init__(self, blockers: Sequence[Blocker]) -> None:
        self.blockers = list(blockers)
        super().__init__("; ".join(str(b) for b in self.blockers))
