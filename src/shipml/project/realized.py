"""Realized performance of the windows that received labels: the champion's, and the
challenger's on the same labels.

A logged window's predictions with a label are judged by `judge_window` against the holdout
of the model version that made them (its own "performance" baseline), stored as a
"performance" record ("realized", "realized.online") and alerted on, in window order.

When the challenger scored the same rows (a batch window's `<pipeline>.challenger` output,
or the shadow's scores of an online window), its logged predictions are joined to the same
labels by the same keys and judged by the same code against the challenger version's own
holdout, then stored under "realized.challenger" ("realized.challenger.online") with the
challenger's `model_version`. They raise no alert: the champion's answers are what users got.
Online, the challenger's rows of a window are the shadow's predictions of its requests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from shipml.alerting.state import raise_alerts
from shipml.monitoring.performance import (
    PerformanceRecord,
    PerformanceReference,
    checked_metrics,
    performance_alerts,
)
from shipml.project._keys import labelled_rows
from shipml.project.performance import (
    PERFORMANCE,
    Baseline,
    judge_window,
    realized_record_name,
    reference_baseline,
)
from shipml.project.predictions import (
    CHALLENGER_SUFFIX,
    META_COLUMNS,
    MODEL_VERSION,
    REQUEST_ID,
    WINDOW_END,
    WINDOW_START,
    LoggedWindow,
    challenger_window,
    logged_windows,
)
from shipml.project.project import Project
from shipml.windows import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Judged:
    """The records of one ingest: the champion's windows, and the challenger's of the same."""

    champion: list[PerformanceRecord] = field(default_factory=list)
    challenger: list[PerformanceRecord] = field(default_factory=list)


def judge_labelled(
    project: Project, windows: list[LoggedWindow], frames: dict[Path, pd.DataFrame]
) -> Judged:
    """Judge, store (and alert on, the champion's) each window's realized performance."""
    judge = _Judge(project)
    theirs = ChallengerRows(project)
    judged = Judged()
    for logged in windows:
        frame = frames[logged.path]
        record = judge(logged, frame)
        if record is None:
            continue
        _store(project, record, logged.kind, challenger=False)
        _alert(project, record)
        judged.champion.append(record)
        rows = theirs(logged, frame)
        found = judge(logged, rows) if rows is not None else None
        if found is not None:
            _store(project, found, logged.kind, challenger=True)
            judged.challenger.append(found)
    return judged


class ChallengerRows:
    """The challenger's logged predictions of a champion window's rows.

    Batch: the challenger's log of the same window. Online: the shadow's predictions of the
    window's requests (by request id), wherever they were logged: a shadow batch may land in
    the online window after the one that holds its requests.
    """

    def __init__(self, project: Project) -> None:
        self._log = project.name + CHALLENGER_SUFFIX
        self._root = project.root
        self._online: pd.DataFrame | None = None

    def __call__(self, logged: LoggedWindow, frame: pd.DataFrame) -> pd.DataFrame | None:
        """The rows, on the champion window's times; None when the challenger scored none."""
        if logged.kind == "batch":
            found = challenger_window(logged)
            return None if found is None else found.read()
        shadow = self._shadow()
        if shadow.empty or REQUEST_ID not in frame.columns:
            return None
        rows = shadow[shadow[REQUEST_ID].isin(frame[REQUEST_ID])]
        if rows.empty:
            return None
        versions = rows[MODEL_VERSION].value_counts()
        if len(versions) > 1:
            log.warning(
                "window %s was shadowed by challenger versions %s: only v%s is judged",
                logged.name,
                ", ".join(map(str, versions.index)),
                versions.index[0],
            )
        rows = rows[rows[MODEL_VERSION] == versions.index[0]]
        same: pd.DataFrame = rows.assign(
            **{WINDOW_START: frame[WINDOW_START].iloc[0], WINDOW_END: frame[WINDOW_END].iloc[0]}
        )
        return same

    def _shadow(self) -> pd.DataFrame:
        """Every online prediction of the challenger (read once per ingest)."""
        if self._online is None:
            windows = logged_windows(self._root, self._log, ("online",))
            frames = [w.read() for w in windows]
            self._online = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return self._online


class _Judge:
    """Judges logged predictions against their version's holdout (references and baselines
    read once per ingest)."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._references: dict[str, PerformanceReference | None] = {}
        self._baselines: dict[tuple[str, int], Baseline] = {}

    def __call__(self, logged: LoggedWindow, frame: pd.DataFrame) -> PerformanceRecord | None:
        """The realized record of `frame` (predictions of `logged`'s rows) on `logged`'s labels;
        None when empty or its version has no performance baseline."""
        if frame.empty:
            return None
        settings = self._project.settings
        version = str(frame[MODEL_VERSION].iloc[0])
        reference = self._reference(version)
        if reference is None:
            log.warning("model version %s has no performance baseline: not judged", version)
            return None
        truth, predictions = labelled_rows(logged, frame, settings.labels.key_columns)
        labels = len(truth)
        baseline = None
        if labels >= settings.labels.min_labels:
            if (version, labels) not in self._baselines:
                self._baselines[version, labels] = reference_baseline(
                    reference, labels, settings.monitoring.min_chunks
                )
            baseline = self._baselines[version, labels]
        window = Window(
            frame[WINDOW_START].iloc[0].to_pydatetime(), frame[WINDOW_END].iloc[0].to_pydatetime()
        )
        return judge_window(
            reference,
            truth.reset_index(drop=True),
            predictions.drop(columns=[c for c in META_COLUMNS if c in predictions]).reset_index(
                drop=True
            ),
            window=window,
            name=logged.name,
            model_version=version,
            predicted=len(frame),
            min_labels=settings.labels.min_labels,
            k=settings.monitoring.k_sigma,
            min_chunks=settings.monitoring.min_chunks,
            baseline=baseline,
        )

    def _reference(self, version: str) -> PerformanceReference | None:
        if version not in self._references:
            self._references[version] = version_reference(self._project, version)
        return self._references[version]


def version_reference(project: Project, version: str) -> PerformanceReference | None:
    """The holdout a model version's realized performance is judged against (None: none kept)."""
    found = project.store.latest_baseline(project.name, PERFORMANCE, model_version=version)
    return None if found is None else PerformanceReference.model_validate(found.payload)


def _store(project: Project, record: PerformanceRecord, kind: str, *, challenger: bool) -> None:
    project.store.save_profile(
        project.name,
        PERFORMANCE,
        realized_record_name(kind, challenger=challenger),
        record.model_dump(mode="json"),
        window_start=record.window_start,
        window_end=record.window_end,
        model_version=record.model_version,
    )


def _alert(project: Project, record: PerformanceRecord) -> None:
    """Open, refresh or close the window's performance alerts (judged windows only)."""
    if not record.judged:
        return
    raise_alerts(
        project.store,
        project.name,
        performance_alerts(record),
        run_id=None,
        window_start=record.window_start,
        sinks=project.alert_sinks,
        checked=checked_metrics(record),
    )
