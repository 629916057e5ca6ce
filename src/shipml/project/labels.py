"""`shipml labels ingest`: join late labels to the logged predictions by key, count everything.

For the range [start, end) the `[labels]` source is read as a batch window reads its input.
Each label row is then exactly one of:

- invalid: a key column or the label is null (it cannot be joined);
- duplicate: its key appeared earlier in this batch, or is already labelled (the first
  label of a key is kept, later ones are never applied);
- unmatched: no logged prediction has its key (yet, or any more);
- matched: joined to the logged prediction(s) with its key, kept beside that window's
  predictions (`.shipml/labels/<pipeline>/<kind>/<window>.parquet`).

labels_read = matched + unmatched + duplicates + invalid, always. Labels that were not joined
are kept with their reason in `.shipml/labels/<pipeline>/rejected/<ingest time>.parquet`,
never dropped silently. Predictions still without a label `label_delay` after their window
ended are counted as overdue. The counts go to the run store (`label_ingests`).

Keys compare by value (`_keys`). Then every window that received labels has its realized
performance computed and judged (`performance`), stored as a "performance" record, and
alerted through the usual alert state, in window order; the challenger's predictions of the
same rows, when it scored them, are judged on the same labels (`realized`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from shipml.errors import ConfigError, LabelsError, MissingInput, WindowInputError
from shipml.io.labels import LabelsSettings
from shipml.monitoring.performance import PerformanceRecord
from shipml.project._keys import KEY, LABEL, canonical_keys, labelled_rows
from shipml.project.performance_metrics import publish_performance
from shipml.project.predictions import (
    CHALLENGER_SUFFIX,
    WINDOW_END,
    LoggedWindow,
    logged_windows,
    purge,
    write_atomically,
)
from shipml.project.project import Project
from shipml.project.realized import judge_labelled
from shipml.windows import Window

log = logging.getLogger(__name__)

LABELLED_AT = "_labelled_at"
REASON = "_reason"


@dataclass(frozen=True)
class LabelIngest:
    """What one ingest found, exactly: every label read is in one of the four counts."""

    start: datetime
    end: datetime
    labels_read: int
    matched: int
    unmatched: int
    duplicates: int
    invalid: int
    overdue: int  # predictions without a label `label_delay` after their window ended
    predictions: int  # logged predictions the labels were joined against
    rejected: str | None = None  # where the labels not joined were kept
    records: list[PerformanceRecord] = field(default_factory=list)
    # the challenger's realized performance on the same labels (its batch outputs, its shadow)
    challenger_records: list[PerformanceRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """The counts by name, as the store keeps them."""
        return {
            "labels_read": self.labels_read,
            "matched": self.matched,
            "unmatched": self.unmatched,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
            "overdue": self.overdue,
            "predictions": self.predictions,
        }


def ingest_labels(
    project: Project, start: datetime, end: datetime, *, now: datetime | None = None
) -> LabelIngest:
    """Read the labels of [start, end), join them to logged predictions, judge performance."""
    settings = project.settings.labels
    source = settings.label_source()
    if source is None:
        raise ConfigError(
            "shipml.toml has no [labels.source] table; add one, e.g. [labels.source] "
            'path = "data/labels/{start:%Y%m%d}.csv"'
        )
    now = now or datetime.now(UTC)
    column = _label_column(project)
    notes: list[str] = []
    purged = sum(
        purge(project.root, log, settings.retention, now)
        for log in (project.name, project.name + CHALLENGER_SUFFIX)
    )
    if purged:
        notes.append(f"{purged} logged windows older than the retention deleted")
    try:
        labels = source.read(Window(start, end)).frame
    except MissingInput as missing:
        labels = pd.DataFrame()
        notes.append(f"no labels yet: {missing}")
    windows = logged_windows(project.root, project.name)
    frames = {logged.path: logged.read() for logged in windows}
    ingest, joined = _join(labels, column, settings, windows, frames, now)
    rejected = _keep_rejected(project, ingest.pop("rejected"), now)
    for logged, new in joined.items():
        _append_labels(logged, new)
    judged = judge_labelled(project, sorted(joined, key=lambda w: w.name), frames)
    overdue = _overdue(windows, frames, settings, now)
    result = LabelIngest(
        start,
        end,
        overdue=overdue,
        predictions=sum(len(frame) for frame in frames.values()),
        rejected=str(rejected) if rejected else None,
        records=judged.champion,
        challenger_records=judged.challenger,
        notes=notes,
        **ingest,
    )
    # the gauges show the last judged window of each kind, whether or not this ingest judged one
    publish_performance(project, result.counts)
    project.store.record_label_ingest(
        project.name,
        start,
        end,
        result.counts,
        {
            "rejected": result.rejected,
            "windows": [r.window for r in judged.champion],
            "notes": notes,
        },
    )
    return result


def ingest_range(
    project: Project, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """The range to read: by default from `retention` ago until now (whole seconds, UTC)."""
    finish = end or datetime.now(UTC).replace(microsecond=0)
    begin = start or finish - project.settings.labels.retention
    if begin >= finish:
        raise WindowInputError(
            f"--start {begin.isoformat()} is not before --end {finish.isoformat()}"
        )
    return begin, finish


def ingest_due(project: Project, until: datetime) -> LabelIngest | None:
    """What the scheduler runs after its windows: the labels from where the last ingest
    stopped (or `retention` ago) until `until`; None without a label source or a new range."""
    if project.settings.labels.label_source() is None:
        return None
    previous = project.store.label_ingests(project.name, limit=1)
    start = previous[0].range_end if previous else until - project.settings.labels.retention
    if start >= until:
        return None
    return ingest_labels(project, start, until)


def _label_column(project: Project) -> str:
    settings = project.settings
    column = settings.labels.column or (settings.training.target if settings.training else None)
    if column is None:
        raise ConfigError("[labels] column is not set, and there is no [training] target")
    return column


def _join(
    labels: pd.DataFrame,
    column: str,
    settings: LabelsSettings,
    windows: list[LoggedWindow],
    frames: dict[Path, pd.DataFrame],
    now: datetime,
) -> tuple[dict[str, Any], dict[LoggedWindow, pd.DataFrame]]:
    """The counts (and the rejected rows), and the new labels of each logged window."""
    keys = settings.key_columns
    read = len(labels)
    if read == 0:
        empty = {"labels_read": 0, "matched": 0, "unmatched": 0, "duplicates": 0, "invalid": 0}
        return {**empty, "rejected": None}, {}
    missing = [c for c in [*keys, column] if c not in labels.columns]
    if missing:
        raise LabelsError(
            f"the labels have no column {', '.join(map(repr, missing))} (their columns: "
            f"{', '.join(map(str, labels.columns[:20]))}); set [labels] key and column"
        )
    sample = next(iter(frames.values()), None)
    rows = labels[[*keys, column]].reset_index(drop=True)
    rows[KEY] = canonical_keys(rows, keys, sample)
    rows[LABEL] = rows[column]
    invalid = rows[[*keys, column]].isna().any(axis=1)
    labelled = _already_labelled(windows)
    repeated = rows[KEY].duplicated(keep="first") | rows[KEY].isin(labelled)
    duplicate = ~invalid & repeated
    index: dict[str, list[LoggedWindow]] = {}
    for logged in windows:
        for key in canonical_keys(frames[logged.path], keys, sample):
            index.setdefault(key, []).append(logged)
    candidate = ~invalid & ~duplicate
    found = rows[KEY].map(lambda key: key in index)
    matched = candidate & found
    unmatched = candidate & ~found
    pairs = [
        (position, logged)
        for position, key in rows.loc[matched, KEY].items()
        for logged in dict.fromkeys(index[key])
    ]
    positions: dict[LoggedWindow, list[Any]] = {}
    for position, logged in pairs:
        positions.setdefault(logged, []).append(position)
    new = {
        logged: rows.loc[found, [KEY, LABEL]].assign(**{LABELLED_AT: pd.Timestamp(now)})
        for logged, found in positions.items()
    }
    reasons = pd.Series(None, index=rows.index, dtype="object")
    reasons[invalid] = "invalid: a null key or label"
    reasons[duplicate] = "duplicate: the key is labelled already"
    reasons[unmatched] = "unmatched: no logged prediction has this key"
    rejected = labels.reset_index(drop=True)[reasons.notna()].assign(
        **{REASON: reasons[reasons.notna()]}
    )
    counts = {
        "labels_read": read,
        "matched": int(matched.sum()),
        "unmatched": int(unmatched.sum()),
        "duplicates": int(duplicate.sum()),
        "invalid": int(invalid.sum()),
    }
    return {**counts, "rejected": rejected if len(rejected) else None}, new


def _already_labelled(windows: list[LoggedWindow]) -> set[str]:
    labelled: set[str] = set()
    for logged in windows:
        if logged.labels_path.is_file():
            labelled.update(pd.read_parquet(logged.labels_path, columns=[KEY])[KEY])
    return labelled


def _append_labels(logged: LoggedWindow, new: pd.DataFrame) -> None:
    """Add a window's new labels to those it had (written atomically)."""
    path = logged.labels_path
    if path.is_file():
        new = pd.concat([pd.read_parquet(path), new], ignore_index=True)
    write_atomically(new.astype({LABEL: "object"}).astype({LABEL: "str"}), path)


def _keep_rejected(project: Project, rejected: pd.DataFrame | None, now: datetime) -> Path | None:
    if rejected is None:
        return None
    directory = project.root / ".shipml" / "labels" / project.name / "rejected"
    target = directory / f"{now:%Y%m%dT%H%M%S%fZ}.parquet"
    write_atomically(rejected.astype("str"), target)
    return target


def _overdue(
    windows: list[LoggedWindow],
    frames: dict[Path, pd.DataFrame],
    settings: LabelsSettings,
    now: datetime,
) -> int:
    """Predictions without a label although their window ended more than `label_delay` ago."""
    overdue = 0
    keys = settings.key_columns
    for logged in windows:
        frame = frames[logged.path]
        if frame.empty:
            continue
        ended = frame[WINDOW_END].iloc[0].to_pydatetime()
        if ended + settings.label_delay > now:
            continue
        truth, _ = labelled_rows(logged, frame, keys)
        overdue += len(frame) - len(truth)
    return overdue
