"""`shipml demo`, the README's main job: every injected fault is reported in its own window,
each failed window raises exactly one alert, and a busy machine does not make it flaky
(it runs here beside processes that keep every core busy), while a step that really became
slow still raises the latency alert."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from shipml.cli.demo import INTERVAL, LIVE_START, MACHINES, SEED
from shipml.project.project import Project

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SHIPML = Path(sys.executable).parent / "shipml"


@contextmanager
def cpu_load() -> Iterator[int]:
    """One busy-looping process per core until the block ends (each killed by its pid)."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        yield len(burners)
    finally:
        for burner in burners:
            burner.kill()
            burner.wait(10)


def test_the_demo_reports_every_fault_and_nothing_on_clean_windows_under_load(
    tmp_path: Path,
) -> None:
    with cpu_load():  # a new process, as a user runs it, and beside busy ones
        outcome = subprocess.run(
            [str(SHIPML), "demo", "--workdir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=900,
        )

    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    assert "every injected fault was reported in its window" in outcome.stdout
    assert "each failed window raised exactly one alert" in " ".join(outcome.stdout.split())
    store = Project.load(tmp_path).store
    runs = store.runs(kind="batch", limit=100)
    assert sorted(r.status for r in runs) == ["failed"] * 3 + ["succeeded"] * 9
    failed_alerts = [a for a in store.alerts(pipeline="sensors") if a.rule == "window_failed"]
    assert len(failed_alerts) == 3 and {a.occurrences for a in failed_alerts} == {1}
    assert {a.status for a in failed_alerts} == {"closed"}  # each closed by the next window
    assert not [a for a in store.alerts(pipeline="sensors") if a.rule.startswith("latency")]
    assert "labels arrived" in outcome.stdout
    realized = [
        r for r in store.alerts(pipeline="sensors") if r.rule == "performance.realized"
    ]  # the window whose failures stopped following the sensors, once its labels came in
    assert LIVE_START + 8 * INTERVAL in {a.window_start for a in realized}
    report = (tmp_path / "report.html").read_text()
    assert "<html" in report and "cdn." not in report

    _a_slow_step_still_raises_the_latency_alert(tmp_path)


def _a_slow_step_still_raises_the_latency_alert(directory: Path) -> None:
    """The derived budget is not so generous that a real regression passes unseen."""
    import importlib

    from shipml.windows import Window

    settings = tomllib.loads((directory / "shipml.toml").read_text())
    budget = settings["monitoring"]["latency_p99_seconds"]
    steps = directory / "steps.py"
    steps.write_text(
        steps.read_text().replace(
            "def featurize(clean: Table[Clean]) -> Table[Features]:\n",
            "def featurize(clean: Table[Clean]) -> Table[Features]:\n"
            f"    __import__('time').sleep({budget * 1.2})  # a regression\n",
            1,
        )
    )
    start = LIVE_START + 12 * INTERVAL
    window = Window(start, start + INTERVAL)
    importlib.import_module("simulator").write_windows(
        directory / "data" / "windows", start, window.end, INTERVAL, machines=MACHINES, seed=SEED
    )

    window_bounds = ["--start", window.start.isoformat(), "--end", window.end.isoformat()]
    subprocess.run(  # a new process imports the slowed step
        [str(SHIPML), "run", "--project", str(directory), *window_bounds],
        check=True,
        timeout=300,
        capture_output=True,
    )

    store = Project.load(directory).store
    [slow] = [a for a in store.alerts(status="open", pipeline="sensors") if a.rule == "latency.p99"]
    assert slow.column == "total" and slow.value is not None and slow.value > budget
