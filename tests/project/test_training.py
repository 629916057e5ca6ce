"""Training's split: the holdout is the latest rows by time, in time order."""

from __future__ import annotations

import pandas as pd

from shipml.project.training import split_holdout


def test_the_holdout_is_in_time_order_whatever_the_files_order() -> None:
    # Rows by machine, then time (as some exports are): the holdout's chunks must cover time
    # as windows do, not one machine after another.
    times = pd.date_range("2026-03-01", periods=50, freq="min", tz="UTC")
    by_machine = pd.DataFrame(
        {"machine": [m for m in "abcd" for _ in times], "ts": list(times) * 4, "x": range(200)}
    )

    fit, holdout = split_holdout(by_machine, 0.2, "ts")

    assert holdout["ts"].is_monotonic_increasing and len(holdout) == 40
    assert holdout["ts"].min() >= fit["ts"].max()
    assert list(holdout["machine"].head(4)) == ["a", "b", "c", "d"]  # each minute, all machines
    assert sorted(holdout.index) == sorted(set(by_machine.index) - set(fit.index))
