"""A toy project with two trained versions: v1 good (champion), v2 trained on inverted labels.

The inverted version learnt that cold machines fail; the latest fifth of its data (its
holdout, by time) is labelled truly, so on that holdout it scores far below the champion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from _projects import SETTINGS, WINDOW_START, readings, write_project
from shipml.project.project import Project

INVERTED = "data/inverted.csv"


@dataclass(frozen=True)
class TwoVersions:
    """The project directory, and its good and worse registered versions."""

    directory: Path
    good: str
    worse: str

    def project(self, champion: str | None = None) -> Project:
        """The project loaded afresh; with `champion`, the alias is put there (unrecorded)."""
        project = Project.load(self.directory)
        if champion is not None:
            project.tracker.promote(champion)
        return project


def write_inverted(directory: Path) -> Path:
    """Training data whose first four fifths have the failure label inverted."""
    frame = readings(WINDOW_START - timedelta(days=1), 2000, seed=3)
    cut = int(len(frame) * 0.8)
    frame.loc[: cut - 1, "failed"] = ~frame.loc[: cut - 1, "failed"].astype(bool)
    path = directory / INVERTED
    frame.to_csv(path, index=False)
    return path


def two_versions(directory: Path, extra_settings: str = "") -> TwoVersions:
    """Write the project, train v1 (champion, through the gate) and v2 on inverted labels."""
    from shipml.project.promotion import promote
    from shipml.project.training import train

    write_project(directory, settings=SETTINGS + extra_settings)
    inverted = write_inverted(directory)
    project = Project.load(directory)
    good = train(project).model.version
    promote(project, good)
    worse = train(project, data=inverted).model.version
    return TwoVersions(directory, good, worse)
