"""The toy project made to run on a short schedule, with a step the tests can pause."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _projects import STEPS, readings
from shipml.windows import Window, latest_complete_window

EVERY = timedelta(seconds=2)

# featurize pauses while the project holds a `pause` file, after touching `paused`.
PAUSABLE_STEPS = STEPS.replace(
    "@step\ndef featurize(readings: Table[Reading]) -> Table[Features]:\n",
    textwrap.dedent(
        """
        import time
        from pathlib import Path

        HERE = Path(__file__).parent


        def _pause_if_asked() -> None:
            if not (HERE / "pause").exists():
                return
            (HERE / "paused").touch()
            deadline = time.monotonic() + 60
            while (HERE / "pause").exists() and time.monotonic() < deadline:
                time.sleep(0.05)


        @step
        def featurize(readings: Table[Reading]) -> Table[Features]:
            _pause_if_asked()
        """
    ),
)

SCHEDULED_SETTINGS = """
[project]
name = "toy"

[source]
kind = "files"
path = "data/readings_{{start:%Y%m%dT%H%M%S}}.csv"

[training]
data = "data/train.csv"
target = "failed"
time_column = "ts"

[schedule]
every = "2s"
catch_up_max = {catch_up_max}
missing_input_retries = {retries}
missing_input_backoff = "1s"
"""


def scheduled_copy(
    trained: Path, directory: Path, *, catch_up_max: int = 96, retries: int = 2
) -> Path:
    """A copy of the trained toy project whose windows are 2 seconds long."""
    shutil.copytree(trained, directory)
    settings = SCHEDULED_SETTINGS.format(catch_up_max=catch_up_max, retries=retries)
    (directory / "shipml.toml").write_text(textwrap.dedent(settings).lstrip())
    return directory


def recent_windows(before: int, after: int, now: datetime | None = None) -> list[Window]:
    """The 2-second windows from `before` windows ago to `after` windows ahead."""
    latest = latest_complete_window(EVERY, now or datetime.now(UTC))
    return [
        Window(latest.start + EVERY * offset, latest.end + EVERY * offset)
        for offset in range(-before, after + 1)
    ]


def write_inputs(project: Path, windows: Iterable[Window]) -> None:
    """One input file per window, as the toy source template names them."""
    for number, window in enumerate(windows):
        frame = readings(window.start, 10, seed=number).drop(columns=["failed"])
        frame["ts"] = window.start.isoformat()
        frame.to_csv(input_file(project, window), index=False)


def input_file(project: Path, window: Window) -> Path:
    """The input file of a window."""
    return project / "data" / f"readings_{window.start:%Y%m%dT%H%M%S}.csv"


def output_files(project: Path) -> list[Path]:
    """Every output file of the toy pipeline, temporary ones included."""
    directory = project / "outputs" / "toy"
    return sorted(directory.iterdir()) if directory.is_dir() else []


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


@contextmanager
def scheduler_process(project: Path, *extra: str) -> Iterator[subprocess.Popen[str]]:
    """`shipml schedule` on the project, killed at the end if the test left it running."""
    shipml = Path(sys.executable).parent / "shipml"
    log = (project / f"scheduler-{time.monotonic_ns()}.log").open("w")
    process = subprocess.Popen(
        [str(shipml), "schedule", "--project", str(project), *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"},
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        log.close()


def scheduler_log(project: Path) -> str:
    """Everything the test's schedulers logged."""
    return "\n".join(p.read_text() for p in sorted(project.glob("scheduler-*.log")))
