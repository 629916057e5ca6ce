"""A separate process using a store, for the multi-process tests.

python _store_worker.py write URL PIPELINE RUNS GO  # when file GO exists, write RUNS runs
python _store_worker.py crash URL                   # start a run, print its id, die
"""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from shipml.store import RunStore

WINDOW = datetime(2024, 3, 1, tzinfo=UTC)


def write(url: str, pipeline: str, runs: int, go: Path) -> None:
    """Once the file `go` exists, write `runs` batch runs, raising one shared alert each time."""
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit(f"{go} never appeared")
        time.sleep(0.01)
    store = RunStore(url)
    quarantine = pd.DataFrame({"x": [1.5, None], "_reasons": ["x: le", "x: null"]}, index=[3, 8])
    for index in range(runs):
        window_start = WINDOW + timedelta(hours=index)
        run_id = store.start_run(pipeline, "batch", window_start=window_start)
        store.record_step(run_id, "preprocess", 0, datetime.now(UTC), 0.01, 10, 8)
        store.record_validation(
            run_id, "preprocess.input", {"rows": 10, "invalid_rows": 2}, quarantine
        )
        store.save_profile(
            pipeline, "batch", "features", {"n": index}, run_id=run_id, window_start=window_start
        )
        store.open_alert("shared", "psi", "drift", column="x", run_id=run_id)
        store.finish_run(run_id, status="succeeded", rows_in=10, rows_valid=8, rows_quarantined=2)
    store.close()


def crash(url: str) -> None:
    """Start a run and die by SIGKILL before finishing it, like a killed batch job."""
    store = RunStore(url)
    run_id = store.start_run("crashy", "batch", window_start=WINDOW)
    print(run_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "write":
        write(arguments[0], arguments[1], int(arguments[2]), Path(arguments[3]))
    elif command == "crash":
        crash(arguments[0])
    else:
        sys.exit(f"unknown command {command!r}: expected 'write' or 'crash'")
