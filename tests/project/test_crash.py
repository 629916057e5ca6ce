"""A window whose process is killed mid-run is redone by the next run, leaving one output."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from _projects import WINDOW_START
from shipml.project.project import Project

SLOW_FEATURIZE = """

import time as _time
from pathlib import Path as _Path

_plain_featurize = featurize.func


@step
def featurize(readings: Table[Reading]) -> Table[Features]:
    if _Path("slow").exists():
        _Path("started").touch()
        _time.sleep(60)
    return _plain_featurize(readings)
"""
RUN = [
    sys.executable, "-m", "shipml.cli", "run",
    "--start", "2026-11-27T10:00:00Z", "--end", "2026-11-27T10:15:00Z",
]  # fmt: skip


def test_a_killed_window_is_redone_and_leaves_exactly_one_output(
    trained_project: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "project"
    shutil.copytree(trained_project, directory, ignore=shutil.ignore_patterns("outputs"))
    with (directory / "steps.py").open("a") as steps:
        steps.write(SLOW_FEATURIZE)
    (directory / "slow").touch()

    first = subprocess.Popen(RUN, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not (directory / "started").exists():
        assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
        assert time.monotonic() < deadline, "the window never started"
        time.sleep(0.2)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    (directory / "slow").unlink()

    second = subprocess.run(RUN, cwd=directory, capture_output=True, text=True, timeout=240)

    assert second.returncode == 0, second.stdout + second.stderr
    outputs = list((directory / "outputs" / "toy").glob("*.parquet"))
    assert [p.name for p in outputs] == [f"{WINDOW_START:%Y%m%dT%H%MZ}.parquet"]
    runs = Project.load(directory).store.runs(kind="batch")
    assert [(r.status, r.attempt) for r in runs] == [("succeeded", 2), ("failed", 1)]
    assert runs[1].error is not None and runs[1].error.startswith("abandoned: attempt 1 ")
    assert set(pd.read_parquet(outputs[0])["run_id"]) == {runs[0].id}
    assert not list((directory / "outputs" / "toy").glob(".*"))  # no partial files left
