"""Toy-project windows with broken input, run with `shipml run` in this process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from _http_server import Recorder
from _projects import WINDOW_START, readings
from shipml.cli import app
from shipml.windows import Window

QUARTER = timedelta(minutes=15)


def copy_project(trained_project: Path, tmp_path: Path) -> Path:
    """A copy of the trained toy project (its model stays in the shared registry)."""
    directory = tmp_path / "project"
    shutil.copytree(trained_project, directory, ignore=shutil.ignore_patterns("outputs"))
    return directory


def windows(first: int, count: int) -> list[Window]:
    """`count` quarter-hour windows from `first` quarters after the toy's first window."""
    return [
        Window(WINDOW_START + QUARTER * n, WINDOW_START + QUARTER * (n + 1))
        for n in range(first, first + count)
    ]


def write_inputs(project: Path, chosen: Iterable[Window], broken: Iterable[Window] = ()) -> None:
    """Input files; in `broken` windows a third of the temperatures break the contract."""
    broken_starts = {w.start for w in broken}
    for window in chosen:
        frame = readings(window.start, 75, seed=int(window.start.timestamp()) % 1000)
        if window.start in broken_starts:
            frame.loc[::3, "temperature_c"] = 500.0
        frame.drop(columns=["failed"]).to_csv(
            project / "data" / f"readings_{window.start:%Y%m%dT%H%M}.csv", index=False
        )


def run(project: Path, chosen: list[Window], *extra: str) -> int:
    """`shipml run` over the windows, in this process; its exit code."""
    outcome = CliRunner().invoke(
        app,
        [
            "run",
            "--project",
            str(project),
            "--start",
            chosen[0].start.isoformat(),
            "--end",
            chosen[-1].end.isoformat(),
            *extra,
        ],
    )
    return outcome.exit_code


def notices(server: Recorder) -> list[dict[str, object]]:
    """The JSON bodies the webhook received so far."""
    return [json.loads(body) for _, _, body in server.requests]
