"""Dask engine benchmark: one 4,000,000-row window of the sensors example, local vs Dask.

The same batch flow of `examples/sensors` (validate -> preprocess -> featurize -> validate ->
predict -> validate -> postprocess -> validate) scores the same window on each engine:

- local: `LocalEngine`, the whole frame in this process;
- dask:  `DaskEngine`, the frame cut into one slice per worker thread, each slice run on a
  worker, the partitions' outputs, reports and kept frames merged back in this process.

The model is the example's `steps.train` fitted on simulated labelled readings (no MLflow).
The window is simulated by the example's simulator (1000 machines, one reading a minute),
with about 0.1% of rows broken so that quarantine and report merging take part. Each engine
runs once on a small window first (imports, worker start-up, model shipping); then the two
engines take turns on the big window, `--repeat` times each, so that a change in the load
of a shared machine hits both alike. Every time is printed; the figures are the best of
each engine's. The cluster's start-up is reported apart. The last two results are checked
to be the same (output rows, quarantined rows, reports, kept frames) before the figures.

On one machine the Dask workers share its cores with this process, which cuts the window,
sends it to them, and receives and merges every partition's output and kept frames: on the
2-core development machine expect no speed-up (see benchmarks/RESULTS.md). To measure a real
cluster, start a scheduler and workers (which need shipml, scikit-learn and the example's
dependencies installed; the example's own code is shipped by the engine):

    dask scheduler                                           # on one host, port 8786
    dask worker tcp://host:8786 --nworkers -1 --nthreads 1   # on each worker host

and run `python benchmarks/dask.py --scheduler-address tcp://host:8786`.

Usage: python benchmarks/dask.py [--rows N] [--repeat R] [--workers W]
                                 [--scheduler-address ADDR]
The last line printed is one JSON object with the times and the speed-up.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named dask.py: without its folder on the import path, `import dask` finds Dask.
if str(Path(__file__).resolve().parent) in sys.path:
    sys.path.remove(str(Path(__file__).resolve().parent))

import argparse
import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

from shipml.config import load_settings
from shipml.pipeline.pipeline import Pipeline
from shipml.pipeline.runner import FlowResult
from shipml.project.engines import Engine, LocalEngine
from shipml.project.engines.dask import DaskEngine
from shipml.project.observe import FEATURES, PREDICTIONS
from shipml.project.project import Project
from shipml.windows import Window

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sensors"
MACHINES = 1000
TRAINING_ROWS = 200_000
WARM_UP_ROWS = 10_000
BROKEN_SHARE = 0.001
START = datetime(2026, 3, 2, tzinfo=UTC)


def main() -> None:
    """Time both engines on the same window and print the figures, JSON last."""
    arguments = _arguments()
    project = _sensors_project()
    model = _trained_model()
    window = _window(arguments.rows, seed=1)
    print(f"window: {len(window):,} rows, {int(BROKEN_SHARE * len(window)):,} broken", flush=True)
    started = time.perf_counter()
    with _client(arguments) as client, DaskEngine(client=client) as engine:
        cluster_s = time.perf_counter() - started
        workers = len(client.nthreads())
        print(f"dask cluster: {workers} workers, started in {cluster_s:.1f} s", flush=True)
        engines: dict[str, Engine] = {"local": LocalEngine(), "dask": engine}
        warm_up = _window(WARM_UP_ROWS, seed=2)
        for chosen in engines.values():
            _run(chosen, project, model, warm_up)
        times: dict[str, list[float]] = {name: [] for name in engines}
        results: dict[str, FlowResult] = {}
        for attempt in range(arguments.repeat):
            for name, chosen in engines.items():  # interleaved: load changes hit both alike
                results.pop(name, None)
                started = time.perf_counter()
                results[name] = _run(chosen, project, model, window)
                times[name].append(round(time.perf_counter() - started, 2))
                print(f"{name} #{attempt + 1}: {times[name][-1]:.1f} s", flush=True)
    _check_same(results["local"], results["dask"])
    best = {name: min(found) for name, found in times.items()}
    figures = {
        "rows": len(window),
        "rows_quarantined": results["local"].rows_quarantined,
        "local_s": best["local"],
        "dask_s": best["dask"],
        "speed_up": round(best["local"] / best["dask"], 2),
        "local_runs_s": times["local"],
        "dask_runs_s": times["dask"],
        "dask_workers": workers,
        "dask_cluster_start_s": round(cluster_s, 2),
        "scheduler": arguments.scheduler_address or "LocalCluster",
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(figures))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000, help="rows in the window")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--scheduler-address", help="a running Dask scheduler, tcp://host:8786")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each engine")
    return parser.parse_args()


def _sensors_project() -> Project:
    """The example's settings and pipeline, without creating its local state directory."""
    sys.path.insert(0, str(EXAMPLE))
    from pipeline import pipeline  # the example's module, found through sys.path

    assert isinstance(pipeline, Pipeline)
    return Project(root=EXAMPLE, settings=load_settings(EXAMPLE), pipeline=pipeline)


def _trained_model() -> Any:
    """The example's classifier, fitted on simulated labelled readings."""
    from simulator import simulate
    from steps import featurize, preprocess, train

    minutes = TRAINING_ROWS // MACHINES
    readings = simulate(START - timedelta(days=7), START - timedelta(days=7, minutes=-minutes),
                        machines=MACHINES, seed=0)  # fmt: skip
    return train(featurize(preprocess(readings)))


def _window(rows: int, seed: int) -> pd.DataFrame:
    """`rows` simulated readings (whole minutes of the fleet), a few of them broken."""
    from simulator import simulate

    minutes = max(1, rows // MACHINES)
    frame = simulate(START, START + timedelta(minutes=minutes), machines=MACHINES, seed=seed,
                     labelled=False).head(rows)  # fmt: skip
    rng = np.random.default_rng(seed)
    broken = rng.choice(len(frame), int(BROKEN_SHARE * len(frame)), replace=False)
    frame.loc[frame.index[broken], "vibration_mm_s"] = -1.0
    return frame


def _client(arguments: argparse.Namespace) -> Client:
    if arguments.scheduler_address:
        return Client(arguments.scheduler_address)
    cluster = LocalCluster(
        n_workers=arguments.workers, threads_per_worker=1, processes=True, dashboard_address=None
    )
    return Client(cluster)


def _run(engine: Engine, project: Project, model: Any, frame: pd.DataFrame) -> FlowResult:
    window = Window(START, START + timedelta(minutes=15))
    return engine.run(
        project.pipeline.batch,
        frame,
        context={"model": model, "window": window},
        policies=project.policies(),
        keep=(FEATURES, PREDICTIONS),
    )


def _check_same(local: FlowResult, dask: FlowResult) -> None:
    """Stop before reporting times if the engines disagree."""
    pd.testing.assert_frame_equal(dask.output, local.output)
    for ours, theirs in zip(dask.boundaries, local.boundaries, strict=True):
        assert ours.report == theirs.report, f"reports differ at {ours.boundary}"
        pd.testing.assert_frame_equal(ours.quarantined, theirs.quarantined)
    for name, frame in local.kept.items():
        pd.testing.assert_frame_equal(dask.kept[name], frame)


if __name__ == "__main__":
    main()
