"""Errors of the notebook tools; each message is one line for the user.

UnreadableNotebook       the file is not a Python notebook that can be read
NotebookRunUnavailable   `check --run` cannot start (optional packages, kernel)
OutputUnusable           `convert --out` cannot receive the project
NotConvertible           the notebook cannot be converted: `blockers`, by cell
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class UnreadableNotebook(Exception):
    """A file that cannot be read as a Jupyter notebook of Python cells."""


class NotebookRunUnavailable(Exception):
    """`--run` cannot start: the optional packages or the kernel are missing."""


class OutputUnusable(Exception):
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


class NotConvertible(Exception):
    """The notebook cannot be converted; `blockers` say why, cell by cell."""

    def __init__(self, blockers: Sequence[Blocker]) -> None:
        self.blockers = list(blockers)
        super().__init__("; ".join(str(b) for b in self.blockers))
