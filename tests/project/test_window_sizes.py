"""Training stores the chunk baselines of the window sizes its data shows, by its time column."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from shipml.project import ModelBaselines, Project
from shipml.project.baselines import window_sizes
from shipml.windows import Cron

START = datetime(2026, 3, 2, tzinfo=UTC)


def _every_minute(rows: int, per_minute: int, start: datetime = START) -> pd.Series:
    return pd.Series(
        [(start + timedelta(minutes=i // per_minute)).isoformat() for i in range(rows)]
    )


def test_a_source_at_a_fixed_rate_gives_one_window_size() -> None:
    times = _every_minute(rows=5 * 60 * 4, per_minute=5)  # four hours, 5 rows a minute

    assert window_sizes(times, timedelta(minutes=15)) == [75]
    assert window_sizes(times, timedelta(hours=1)) == [300]


def test_only_the_commonest_sizes_are_kept_and_a_cron_cadence_has_none() -> None:
    later = START + timedelta(hours=3)
    times = pd.concat([_every_minute(900, 5), _every_minute(675, 9, later)])  # 12, then 5

    assert window_sizes(times, timedelta(minutes=15)) == [75, 135]
    assert window_sizes(times, timedelta(minutes=15), most=1) == [75]
    assert window_sizes(times, Cron("*/15 * * * *", "UTC")) == []
    assert window_sizes(pd.Series(["not a time"]), timedelta(minutes=15)) == []


def test_the_trained_version_carries_the_baseline_of_its_windows(trained_project: Path) -> None:
    model = Project.load(trained_project).tracker.load("champion")
    baselines = ModelBaselines.from_json(model.baseline)

    assert baselines is not None and baselines.monitoring.performance is not None
    assert [b.rows for b in baselines.monitoring.performance.baselines] == [75]
