"""Monitored windows in the run store: how they are saved, and how they are read back.

Per window, three profile records share the run id and window bounds (kind "batch" or
"online"):

| name         | payload                                          |
|--------------|--------------------------------------------------|
| `window`     | the window's `Profile` (features and predictions) |
| `latency`    | its `LatencyProfile` (optional)                  |
| `evaluation` | its `WindowEvaluation` (drift, shift, latency)   |
| `shadow`     | online: its `ShadowProfiles` (a challenger beside the champion, optional) |

The baseline is the profile record of kind and name "baseline" (a `MonitoringBaseline`).
A window saved without an evaluation is evaluated against the newest baseline when read.
The store is only used through its methods here; this module does not import it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from shipml.errors import MonitoringError
from shipml.monitoring.baseline import MonitoringBaseline
from shipml.monitoring.latency import LatencyProfile
from shipml.monitoring.profiles import Profile
from shipml.monitoring.shadow import ShadowProfiles
from shipml.monitoring.window import MonitoringConfig, WindowEvaluation, evaluate_window

if TYPE_CHECKING:
    from shipml.store import ProfileRecord, RunStore

BASELINE = "baseline"
WINDOW = "window"
LATENCY = "latency"
EVALUATION = "evaluation"
SHADOW = "shadow"
WINDOW_KINDS = ("batch", "online")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitoredWindow:
    """One window as monitoring saw it: its profiles and its evaluation."""

    kind: str
    start: datetime | None
    end: datetime | None
    run_id: str | None
    profile: Profile
    latency: LatencyProfile | None
    evaluation: WindowEvaluation
    shadow: ShadowProfiles | None = None  # a challenger scored beside the champion (online)


def save_window(
    store: RunStore,
    pipeline: str,
    kind: str,
    *,
    profile: Profile,
    evaluation: WindowEvaluation,
    latency: LatencyProfile | None = None,
    run_id: str | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    model_name: str | None = None,
    model_version: str | None = None,
) -> None:
    """Store a window's profile, latency profile (if any) and evaluation."""
    if kind not in WINDOW_KINDS:
        raise MonitoringError(f"window kind must be one of {list(WINDOW_KINDS)}, got {kind!r}")
    payloads = {WINDOW: profile, LATENCY: latency, EVALUATION: evaluation}
    for name, payload in payloads.items():
        if payload is None:
            continue
        store.save_profile(
            pipeline,
            kind,
            name,
            payload.model_dump(mode="json"),
            run_id=run_id,
            window_start=window_start,
            window_end=window_end,
            model_name=model_name,
            model_version=model_version,
        )


def load_baseline(store: RunStore, pipeline: str) -> MonitoringBaseline | None:
    """The newest baseline of the pipeline, or None before the first training."""
    record = store.latest_baseline(pipeline, BASELINE)
    return None if record is None else MonitoringBaseline.model_validate(record.payload)


def load_windows(
    store: RunStore,
    pipeline: str,
    *,
    last: int | None = None,
    kinds: Sequence[str] = WINDOW_KINDS,
    baseline: MonitoringBaseline | None = None,
    config: MonitoringConfig | None = None,
) -> list[MonitoredWindow]:
    """The newest `last` windows (all without it), oldest first; a re-run window counts once."""
    if last is not None and last < 1:
        raise MonitoringError(f"last must be a positive number of windows, got {last}")
    windows: list[MonitoredWindow] = []
    for kind in kinds:
        profiles = _latest_per_window(store.profiles(pipeline, kind, WINDOW, limit=last))
        latencies = _latest_per_window(store.profiles(pipeline, kind, LATENCY, limit=last))
        evaluations = _latest_per_window(store.profiles(pipeline, kind, EVALUATION, limit=last))
        shadows = _latest_per_window(store.profiles(pipeline, kind, SHADOW, limit=last))
        for key, record in profiles.items():
            found = _assemble(record, latencies.get(key), evaluations.get(key), baseline, config)
            if found is not None:
                shadow = shadows.get(key)
                if shadow is not None:
                    found = dataclasses.replace(
                        found, shadow=ShadowProfiles.model_validate(shadow.payload)
                    )
                windows.append(found)
    windows.sort(key=_order)
    return windows if last is None else windows[-last:]


_WindowKey = tuple[str | None, datetime | None]


def _latest_per_window(records: Iterable[ProfileRecord]) -> dict[_WindowKey, ProfileRecord]:
    """Records keyed by (run, window start); of several runs of one window, the newest."""
    by_start: dict[datetime, ProfileRecord] = {}
    undated: list[ProfileRecord] = []
    for record in records:
        if record.window_start is None:
            undated.append(record)
        elif record.window_start not in by_start or by_start[record.window_start].id < record.id:
            by_start[record.window_start] = record
    return {
        (record.run_id, record.window_start): record for record in [*by_start.values(), *undated]
    }


def _assemble(
    window: ProfileRecord,
    latency: ProfileRecord | None,
    evaluation: ProfileRecord | None,
    baseline: MonitoringBaseline | None,
    config: MonitoringConfig | None,
) -> MonitoredWindow | None:
    profile = Profile.model_validate(window.payload)
    latency_profile = None if latency is None else LatencyProfile.model_validate(latency.payload)
    evaluated: WindowEvaluation | None
    if evaluation is not None:
        evaluated = WindowEvaluation.model_validate(evaluation.payload)
    else:
        evaluated = _evaluate(window, profile, latency_profile, baseline, config)
        if evaluated is None:
            return None
    return MonitoredWindow(
        kind=window.kind,
        start=window.window_start,
        end=window.window_end,
        run_id=window.run_id,
        profile=profile,
        latency=latency_profile,
        evaluation=evaluated,
    )


def _evaluate(
    window: ProfileRecord,
    profile: Profile,
    latency: LatencyProfile | None,
    baseline: MonitoringBaseline | None,
    config: MonitoringConfig | None,
) -> WindowEvaluation | None:
    where = f"{window.kind} window {window.window_start} (run {window.run_id})"
    if baseline is None:
        logger.warning("left out %s: it has no stored evaluation and there is no baseline", where)
        return None
    try:
        return evaluate_window(baseline, profile, latency, config)
    except MonitoringError as error:
        logger.warning("left out %s: cannot evaluate it against the baseline: %s", where, error)
        return None


def _order(window: MonitoredWindow) -> tuple[float, str]:
    when = window.start.timestamp() if window.start is not None else float("inf")
    return when, window.kind
