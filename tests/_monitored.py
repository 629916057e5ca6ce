"""Monitored windows for report, metrics and CLI tests: a baseline, then calm and hot windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import pandas as pd

from shipml.monitoring import (
    END_TO_END,
    LatencyProfile,
    MonitoringBaseline,
    MonitoringConfig,
    Severity,
    evaluate_window,
    profile,
)
from shipml.project.history import MonitoredWindow
from shipml.store.records import AlertRecord

START = datetime(2026, 11, 1, tzinfo=UTC)
STEP = timedelta(minutes=15)
CONFIG = MonitoringConfig(latency_p99_seconds=0.08)


def readings(rng: np.random.Generator, rows: int, heat: float = 0.0) -> pd.DataFrame:
    """12 sensors, a mode and a site, and a failure probability rising with sensor_0: 15 columns."""
    frame = pd.DataFrame(
        {f"sensor_{i}": rng.normal(10 * i + heat * (i % 4 == 0), 2, rows) for i in range(12)}
    )
    frame["mode"] = rng.choice(["idle", "run", "stop"], rows, p=[0.3, 0.6, 0.1])
    frame["site"] = pd.Series(rng.choice(list("abcdef"), rows), dtype="str")
    frame["failure_probability"] = 1 / (1 + np.exp(-(frame["sensor_0"] - 2) / 2))
    return frame


@cache
def baseline() -> MonitoringBaseline:
    """Profiles of 20,000 training rows and 100,000 holdout predictions (100 chunks of 1,000)."""
    rng = np.random.default_rng(2026)
    training, holdout = readings(rng, 20_000), readings(rng, 100_000)
    return MonitoringBaseline.from_training(
        training.drop(columns=["failure_probability"]),
        holdout[["failure_probability"]],
        "failure_probability",
    )


@cache
def _samples() -> tuple[tuple, ...]:
    """Five calm windows and three of rising heat (drift, shift, slow), evaluated for real."""
    rng = np.random.default_rng(8)
    found = []
    for heat in (0, 0, 0, 0, 0, 1.5, 3.0, 4.5):
        window = profile(readings(rng, 1000, heat), baseline().spec)
        latency = LatencyProfile.from_samples(
            {END_TO_END: rng.lognormal(np.log(0.02 * (1 + heat)), 0.3, 1000)}
        )
        found.append((window, latency, evaluate_window(baseline(), window, latency, CONFIG)))
    return tuple(found)


def monitored_windows(count: int, kind: str = "batch") -> list[MonitoredWindow]:
    """`count` consecutive windows cycling through the evaluated samples."""
    samples = _samples()
    return [
        MonitoredWindow(
            kind=kind,
            start=START + i * STEP,
            end=START + (i + 1) * STEP,
            run_id=f"run-{i}",
            profile=samples[i % len(samples)][0],
            latency=samples[i % len(samples)][1],
            evaluation=samples[i % len(samples)][2],
        )
        for i in range(count)
    ]


def alert(
    number: int,
    *,
    rule: str = "drift.psi",
    column: str | None = "sensor_0",
    severity: Severity = "warning",
    closed: bool = False,
) -> AlertRecord:
    """An alert opened at window `number`, closed four windows later or still open."""
    opened = START + number * STEP
    return AlertRecord(
        id=number,
        pipeline="toy",
        rule=rule,
        column=column,
        run_id=f"run-{number}",
        window_start=opened,
        value=0.4,
        threshold=0.2,
        severity=severity,
        status="closed" if closed else "open",
        message=f"{rule} on {column}",
        opened_at=opened,
        closed_at=opened + 4 * STEP if closed else None,
        last_seen_at=opened + 3 * STEP,
        occurrences=3,
    )
