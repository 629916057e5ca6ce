"""The promotion gate's rows once labels exist: production rows both models predicted.

When the candidate scored production windows as the challenger (batch `challenger_in_batch`,
or the shadow in serving) beside the current champion, and labels were joined to those
windows, both models are compared on the rows that both predicted and that have a label,
pooled over every such window: the joined rows of their realized records, measured by the
same code (`realized_metrics`, each version's own holdout reference and threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from shipml.monitoring.performance import PerformanceReference
from shipml.project._keys import KEY, canonical_keys, labelled_rows
from shipml.project.performance import realized_metrics
from shipml.project.predictions import META_COLUMNS, MODEL_VERSION, logged_windows
from shipml.project.project import Project
from shipml.project.realized import ChallengerRows, version_reference


@dataclass(frozen=True)
class ProductionMetrics:
    """Both versions' metrics on the same labelled production rows."""

    task: str
    candidate: dict[str, float]
    champion: dict[str, float]
    rows: int
    windows: int

    def describe(self) -> str:
        """'labelled production rows of 2 windows (90 rows)', for the comparison table."""
        windows = f"{self.windows} window{'' if self.windows == 1 else 's'}"
        return f"labelled production rows of {windows} ({self.rows} rows)"


def production_metrics(project: Project, candidate: str, champion: str) -> ProductionMetrics | None:
    """The metrics of `candidate` (as challenger) and `champion` on the labelled rows both
    predicted; None with fewer than `[labels] min_labels` such rows, or no reference."""
    references = [version_reference(project, v) for v in (candidate, champion)]
    theirs_reference, ours_reference = references
    if theirs_reference is None or ours_reference is None:
        return None
    keys = project.settings.labels.key_columns
    challenger = ChallengerRows(project)
    ours: list[pd.DataFrame] = []
    theirs: list[pd.DataFrame] = []
    for logged in logged_windows(project.root, project.name):
        frame = logged.read()
        if frame.empty or str(frame[MODEL_VERSION].iloc[0]) != champion:
            continue
        rows = challenger(logged, frame)
        if rows is None or rows.empty or str(rows[MODEL_VERSION].iloc[0]) != candidate:
            continue
        mine = _keyed(*labelled_rows(logged, frame, keys), keys)
        other = _keyed(*labelled_rows(logged, rows, keys), keys)
        shared = mine.index.intersection(other.index)
        if len(shared):
            ours.append(mine.loc[shared])
            theirs.append(other.loc[shared])
    count = sum(len(f) for f in ours)
    if count == 0 or count < project.settings.labels.min_labels:
        return None
    return ProductionMetrics(
        task=theirs_reference.task,
        candidate=_metrics(theirs_reference, pd.concat(theirs)),
        champion=_metrics(ours_reference, pd.concat(ours)),
        rows=count,
        windows=len(ours),
    )


def _keyed(truth: pd.Series, predictions: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The labelled predictions with their label (`_truth`), indexed by key, each key once."""
    frame = predictions.drop(columns=[c for c in META_COLUMNS if c in predictions])
    frame = frame.assign(_truth=truth.to_numpy())
    frame.index = pd.Index(canonical_keys(predictions, keys, predictions), name=KEY)
    return frame[~frame.index.duplicated(keep="first")].sort_index()


def _metrics(reference: PerformanceReference, rows: pd.DataFrame) -> dict[str, float]:
    truth = rows["_truth"].reset_index(drop=True)
    return realized_metrics(reference, truth, rows.drop(columns="_truth").reset_index(drop=True))
