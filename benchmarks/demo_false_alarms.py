"""How often realized performance flags a clean window of the demo (issue 16).

Builds the demo project, trains as `shipml demo` does, then runs `--windows` clean 15-minute
windows of the simulated fleet after the demo's live start, lets their labels arrive, and
counts the windows whose realized ROC AUC and F1 fall below k sigma of the holdout chunks
(k = 2 and 3). About 3 minutes for a day of windows.

    python benchmarks/demo_false_alarms.py [--windows 96]

The last line printed is one JSON object with the counts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from shipml.cli import demo
from shipml.errors import CriticalAlert
from shipml.project.batch import run_window
from shipml.project.labels import ingest_labels
from shipml.project.project import Project
from shipml.windows import Window


def main() -> None:
    """Train the demo's model, run clean windows, judge them on their labels, count alarms."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=96, help="clean windows to run")
    windows = parser.parse_args().windows
    logging.disable(logging.CRITICAL)  # the alerts of the windows are what is counted here
    with tempfile.TemporaryDirectory(prefix="shipml-false-alarms-") as folder:
        project = demo._prepare(Path(folder) / "project")
        simulator = demo._simulator()
        demo._train(project, simulator)
        first = demo.LIVE_START + timedelta(days=1)  # after the demo's own windows
        for number in range(windows):
            _clean_window(project, simulator, first + number * demo.INTERVAL)
        end = first + windows * demo.INTERVAL
        found = ingest_labels(project, first, end, now=end + timedelta(days=1))
    z: dict[str, list[float]] = {}
    for record in found.records:
        for result in record.results:
            if result.z is not None:
                z.setdefault(result.metric, []).append(result.z)
    counts = {
        metric: {
            "windows": len(values),
            "below_2_sigma": int((np.asarray(values) < -2).sum()),
            "below_3_sigma": int((np.asarray(values) < -3).sum()),
            "lowest_z": round(min(values), 2),
        }
        for metric, values in z.items()
    }
    for metric, figures in counts.items():
        print(f"{metric}: {figures}")
    print(json.dumps({"clean_windows": windows, "realized": counts}))


def _clean_window(project: Project, simulator: Any, start: datetime) -> None:
    """Write one clean window's readings and labels, and score it."""
    window = Window(start, start + demo.INTERVAL)
    folder = project.root / "data"
    fleet = {"machines": demo.MACHINES, "seed": demo.SEED}
    simulator.write_windows(folder / "windows", window.start, window.end, demo.INTERVAL, **fleet)
    with contextlib.suppress(CriticalAlert):  # an alert is no failure: the labels judge
        run_window(project, window, force=True)
    labels = simulator.simulate(window.start, window.end, **fleet)
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    path = folder / "labels" / f"labels_{window.start:%Y%m%dT%H%M}.csv"
    labels[["machine_id", "ts", simulator.LABEL]].to_csv(path, index=False)


if __name__ == "__main__":
    main()
