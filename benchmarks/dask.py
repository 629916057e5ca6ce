"""Dask engine benchmark: whole batch windows of the sensors example, local engine vs Dask.

Each run is `run_window` as `shipml run` calls it: read the window's Parquet file, run the
batch flow of `examples/sensors` (validate -> preprocess -> featurize -> validate -> predict ->
validate -> postprocess -> validate), profile features and predictions, evaluate drift and
prediction shift, write the output, record the run (SQLite store).

- local: `LocalEngine`: the whole window in this process (the file read whole, one output
  file written).
- dask:  `DaskEngine` on a `LocalCluster` of 2 single-threaded worker processes with
  `memory_limit` 1.5 GB each: every worker reads its partitions (row groups) of the file,
  runs the flow, profiles and writes its output part; counts, reports and profiles come back.

The project is a temporary copy of the example's code with a Parquet source
(`data/readings_{start}.parquet`, 250,000-row row groups) and quarantine up to 5%. The model is
the example's `steps.train` fitted on 200,000 simulated labelled rows, with the baselines
training would store (so each window is monitored). Windows are simulated (1000 machines,
one reading a minute) with 0.1% of rows broken (quarantined).

1. Both engines score a 10,000-row window first (imports, worker start-up, model shipping).
2. The 4,000,000-row window: the engines take turns, `--repeat` runs each, the order
   alternating each turn (local-dask, dask-local, ...), so load changes on a shared machine
   hit both alike. Median and worst of each, and their ratios (local time / dask time: above 1
   means Dask is faster); also the ratio within each turn (two consecutive runs, the least
   exposed to a change of load), its median and worst, and the load average of each turn.
   The last local and dask runs are then checked to agree: the output
   rows (a digest of every row, run ids aside), counts, every validation report, quarantined
   rows, drift and prediction shift.
3. The 20,000,000-row window (`--big-rows`) on Dask, with each worker's peak RSS and a check
   that no worker was restarted. The local engine scores it in a child process whose peak RSS
   is measured, when the machine has the memory it needs (estimated from a measured local run
   of the 4M window; else it is skipped and said so); both results are then checked as above.

The 1-minute load average is recorded before and after every run. On a real cluster, start
a scheduler and workers (which need shipml, scikit-learn and the example's dependencies, and
the benchmark's temporary directory at the same path, e.g. on a shared file system):

    dask scheduler                                           # on one host, port 8786
    dask worker tcp://host:8786 --nworkers 2 --nthreads 1 --memory-limit 1.5GB

and run `python benchmarks/dask.py --scheduler-address tcp://host:8786`.

Usage: python benchmarks/dask.py [--rows N] [--big-rows N] [--repeat R] [--workers W]
                                 [--memory-limit 1.5GB] [--scheduler-address ADDR]
The last line printed is one JSON object with every figure and ratio.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named dask.py: without its folder on the import path, `import dask` finds Dask.
if str(Path(__file__).resolve().parent) in sys.path:
    sys.path.remove(str(Path(__file__).resolve().parent))

import argparse
import hashlib
import json
import os
import pickle
import resource
import shutil
import statistics
import subprocess
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from distributed import Client, LocalCluster

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sensors"
MACHINES = 1000
TRAINING_ROWS = 200_000
WARM_UP_ROWS = 10_000
ROW_GROUP_ROWS = 250_000
CHUNK_MINUTES = 1000  # simulated and written a million rows at a time
BROKEN_SHARE = 0.001
START = datetime(2026, 3, 2, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
SETTINGS = """
[project]
name = "sensors"
pipeline = "pipeline:pipeline"

[source]
kind = "files"
path = "data/readings_{start:%Y%m%dT%H%M}.parquet"

[validation]
policy = "quarantine"
max_invalid_fraction = 0.05

[monitoring]
k_sigma = 2.0
latency_p99_seconds = 3600
"""


def main() -> None:
    """Run the benchmark and print the figures, JSON last."""
    arguments = _arguments()
    if arguments.child_local:
        _child_local(Path(arguments.child_local), arguments.window_start)
        return
    workdir = Path(tempfile.mkdtemp(prefix="shipml-dask-benchmark-"))
    try:
        figures = _benchmark(arguments, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures))


def _benchmark(arguments: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from shipml.project.engines import LocalEngine
    from shipml.project.engines.dask import DaskEngine

    root = _project_directory(workdir)
    project = _load(root)
    model = _monitored_model(project)
    (root / "model.pickle").write_bytes(pickle.dumps(model))
    warm_up, medium, big = (START + WINDOW * offset for offset in (0, 1, 2))
    _write_window(root, warm_up, WARM_UP_ROWS, seed=2)
    _write_window(root, medium, arguments.rows, seed=1)
    print(f"windows written: {arguments.rows:,} and {WARM_UP_ROWS:,} rows", flush=True)
    figures: dict[str, Any] = {"rows": arguments.rows, "cpu_count": os.cpu_count()}
    loads: list[float] = []
    with _client(arguments) as client, DaskEngine(client=client) as dask:
        figures["dask_workers"] = len(client.nthreads())
        figures["dask_memory_limit"] = arguments.memory_limit
        figures["scheduler"] = arguments.scheduler_address or "LocalCluster"
        engines = {"local": LocalEngine(), "dask": dask}
        for name, engine in engines.items():
            seconds = _timed_window(project, model, warm_up, engine, loads)
            print(f"warm-up {name}: {seconds:.1f} s", flush=True)
        times: dict[str, list[float]] = {name: [] for name in engines}
        turn_loads: list[float] = []
        runs: dict[str, str] = {}
        for turn in range(arguments.repeat):
            order = list(engines) if turn % 2 == 0 else list(reversed(engines))
            for name in order:
                times[name].append(_timed_window(project, model, medium, engines[name], loads))
                runs[name] = _latest_run(project, medium)
                print(f"{name} #{turn + 1}: {times[name][-1]:.1f} s", flush=True)
            turn_loads.append(round(sum(loads[-4:]) / 4, 1))
        figures.update(_timings(times))
        figures["load_average_1m_by_turn"] = turn_loads
        figures["same_results_4m"] = _same_results(project, runs["local"], runs["dask"])
        figures["dask_peak_rss_mb_after_4m"] = _worker_peaks(client)
        local = _local_in_child(root, medium, loads)
        figures["local_peak_rss_mb_4m"] = local["peak_rss_mb"]
        print(f"local 4M in a child process: peak RSS {local['peak_rss_mb']:,} MB", flush=True)
        if arguments.big_rows:
            _write_window(root, big, arguments.big_rows, seed=3)
            print(f"big window written: {arguments.big_rows:,} rows", flush=True)
            estimate = round(local["peak_rss_mb"] * arguments.big_rows / arguments.rows)
            figures.update(
                _big_window(arguments, project, model, root, big, client, dask, loads, estimate)
            )
    figures["load_average_1m_min"] = min(loads)
    figures["load_average_1m_max"] = max(loads)
    return figures


def _big_window(
    arguments: argparse.Namespace,
    project: Any,
    model: Any,
    root: Path,
    big: datetime,
    client: Client,
    dask: Any,
    loads: list[float],
    needed: int,
) -> dict[str, Any]:
    """The big window on Dask (peak RSS per worker), and locally when memory allows.

    `needed`: the local engine's peak RSS for the big window estimated from the timed one's.
    """
    figures: dict[str, Any] = {"big_rows": arguments.big_rows}
    workers_before = client.run(os.getpid)
    seconds = _timed_window(project, model, big, dask, loads)
    workers_after = client.run(os.getpid)
    dask_run = _latest_run(project, big)
    record = project.store.run(dask_run).run
    print(f"dask big window: {seconds:.1f} s, {record.status}", flush=True)
    figures["big_dask_s"] = round(seconds, 1)
    figures["big_dask_status"] = record.status
    figures["big_rows_out"] = record.rows_out
    figures["big_dask_workers_restarted"] = workers_before != workers_after
    figures["big_dask_peak_rss_mb"] = _worker_peaks(client)
    available = _available_mb()
    figures["big_local_estimated_mb"] = needed
    figures["available_memory_mb"] = available
    if needed > 0.8 * available and not arguments.force_big_local:
        figures["big_local"] = "skipped: not enough memory on this machine"
        print(f"local big window skipped: needs ~{needed:,} MB, {available:,} MB free", flush=True)
        return figures
    local = _local_in_child(root, big, loads)
    figures["big_local_s"] = local["seconds"]
    figures["big_local_peak_rss_mb"] = local["peak_rss_mb"]
    figures["big_speed_ratio"] = round(local["seconds"] / seconds, 2)
    figures["same_results_big"] = _same_results(project, local["run_id"], dask_run)
    print(f"local big window: {local['seconds']:.1f} s, {local['peak_rss_mb']:,} MB", flush=True)
    return figures


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000, help="rows of the timed window")
    parser.add_argument("--big-rows", type=int, default=20_000_000, help="0: skip the big window")
    parser.add_argument("--repeat", type=int, default=4, help="timed runs of each engine")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--memory-limit", default="1.5GB", help="of each LocalCluster worker")
    parser.add_argument("--scheduler-address", help="a running Dask scheduler, tcp://host:8786")
    parser.add_argument(
        "--force-big-local", action="store_true", help="run the big window locally anyway"
    )
    parser.add_argument("--child-local", help=argparse.SUPPRESS)  # project directory
    parser.add_argument("--window-start", help=argparse.SUPPRESS)
    return parser.parse_args()


def _project_directory(workdir: Path) -> Path:
    """The example's code with a Parquet source, in a fresh project directory."""
    root = workdir / "sensors"
    root.mkdir()
    for name in ("contracts.py", "steps.py", "pipeline.py"):
        shutil.copy(EXAMPLE / name, root / name)
    (root / "shipml.toml").write_text(textwrap.dedent(SETTINGS).lstrip())
    (root / "data").mkdir()
    return root


def _load(root: Path) -> Any:
    from shipml.project.project import Project

    return Project.load(root)


def _monitored_model(project: Any) -> Any:
    """The example's classifier with the input and monitoring baselines training stores."""
    sys.path.insert(0, str(EXAMPLE))
    from simulator import simulate  # the example's simulator, not part of the project
    from steps import featurize, predict, preprocess, train

    from shipml.contracts import Baseline
    from shipml.monitoring import MonitoringBaseline
    from shipml.project.baselines import ModelBaselines
    from shipml.versioning.tracking import LoadedModel, ModelRef, ModelVersionInfo

    minutes = TRAINING_ROWS // MACHINES
    first = START - timedelta(days=7)
    labelled = simulate(first, first + timedelta(minutes=minutes), machines=MACHINES, seed=0)
    features = featurize(preprocess(labelled))
    classifier = train(features)
    holdout = simulate(first + timedelta(minutes=minutes), first + timedelta(minutes=2 * minutes),
                       machines=MACHINES, seed=5, labelled=False)  # fmt: skip
    holdout_features = featurize(preprocess(holdout))
    predictions = predict(holdout_features, classifier)
    outputs = predictions[predictions.columns.difference(holdout_features.columns)]
    baselines = ModelBaselines(  # as training builds them (shipml.project.training)
        inputs=Baseline.from_frame(labelled.drop(columns=["failure_within_1h"])),
        monitoring=MonitoringBaseline.from_training(
            holdout_features, outputs, "failure_probability"
        ),
    )
    info = ModelVersionInfo(ModelRef("sensors", "1", "champion"), ("champion",), START)
    return LoadedModel(model=classifier, info=info, baseline=baselines.to_json())


def _write_window(root: Path, start: datetime, rows: int, seed: int) -> None:
    """`rows` simulated readings in the window's Parquet file, written a chunk at a time."""
    from simulator import simulate

    file = root / "data" / f"readings_{start:%Y%m%dT%H%M}.parquet"
    rng = np.random.default_rng(seed)
    writer = None
    written = 0
    for chunk in range(-(-rows // (CHUNK_MINUTES * MACHINES))):
        minutes = min(CHUNK_MINUTES, -(-(rows - written) // MACHINES))
        first = START + timedelta(minutes=chunk * CHUNK_MINUTES)
        frame = simulate(first, first + timedelta(minutes=minutes), machines=MACHINES,
                         seed=seed * 1000 + chunk, labelled=False).head(rows - written)  # fmt: skip
        broken = rng.choice(len(frame), int(BROKEN_SHARE * len(frame)), replace=False)
        frame.loc[frame.index[broken], "vibration_mm_s"] = -1.0
        table = _table(frame)
        writer = writer or pq.ParquetWriter(file, table.schema)
        writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        written += len(frame)
    assert writer is not None
    writer.close()


def _table(frame: pd.DataFrame) -> Any:
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def _client(arguments: argparse.Namespace) -> Client:
    if arguments.scheduler_address:
        return Client(arguments.scheduler_address)
    cluster = LocalCluster(
        n_workers=arguments.workers,
        threads_per_worker=1,
        processes=True,
        memory_limit=arguments.memory_limit,
        dashboard_address=None,
    )
    return Client(cluster)


def _timed_window(
    project: Any, model: Any, start: datetime, engine: Any, loads: list[float]
) -> float:
    """Seconds to score the window (again) with `engine`; the load average around it."""
    from shipml.project.batch import run_window
    from shipml.windows import Window

    loads.append(round(os.getloadavg()[0], 1))
    began = time.perf_counter()
    outcome = run_window(project, Window(start, start + WINDOW), model=model, engine=engine,
                         force=True)  # fmt: skip
    seconds = time.perf_counter() - began
    loads.append(round(os.getloadavg()[0], 1))
    assert outcome.status == "succeeded", outcome
    return seconds


def _latest_run(project: Any, start: datetime) -> str:
    record = project.store.latest_window_run(project.name, start)
    assert record is not None
    return str(record.id)


def _timings(times: dict[str, list[float]]) -> dict[str, Any]:
    """Every run, median and worst of each engine, and local / dask ratios of both."""
    figures: dict[str, Any] = {}
    for name, found in times.items():
        figures[f"{name}_runs_s"] = [round(t, 1) for t in found]
        figures[f"{name}_median_s"] = round(statistics.median(found), 1)
        figures[f"{name}_worst_s"] = round(max(found), 1)
    figures["speed_ratio_median"] = round(
        statistics.median(times["local"]) / statistics.median(times["dask"]), 2
    )
    figures["speed_ratio_worst"] = round(max(times["local"]) / max(times["dask"]), 2)
    # The two runs of a turn follow each other: their ratio sees the least change of load.
    by_turn = [local / dask for local, dask in zip(times["local"], times["dask"], strict=True)]
    figures["speed_ratio_by_turn"] = [round(r, 2) for r in by_turn]
    figures["speed_ratio_by_turn_median"] = round(statistics.median(by_turn), 2)
    figures["speed_ratio_by_turn_worst"] = round(min(by_turn), 2)
    return figures


def _same_results(project: Any, local_run: str, dask_run: str) -> bool:
    """Whether two runs of a window agree on output rows, counts, reports, drift and shift."""
    store = project.store
    local, dask = store.run(local_run), store.run(dask_run)
    counts = ("status", "rows_in", "rows_valid", "rows_quarantined", "rows_out")
    checks: dict[str, Callable[[], bool]] = {
        "counts": lambda: all(getattr(local.run, c) == getattr(dask.run, c) for c in counts),
        "reports": lambda: local.validations == dask.validations,
        "quarantined": lambda: store.quarantined(local_run).equals(store.quarantined(dask_run)),
        "evaluation": lambda: _evaluation(project, local_run) == _evaluation(project, dask_run),
        "output": lambda: _digest(local.run.output) == _digest(dask.run.output),
    }
    failed = [name for name, check in checks.items() if not check()]
    if failed:
        print(f"runs {local_run} and {dask_run} differ in: {', '.join(failed)}", flush=True)
    return not failed


def _evaluation(project: Any, run_id: str) -> dict[str, Any]:
    records = project.store.profiles(project.name, "batch", "evaluation")
    [record] = [r for r in records if r.run_id == run_id]
    return {key: record.payload[key] for key in ("drift", "shift", "alerts")}


def _digest(output: str) -> tuple[int, str]:
    """Rows and a sha256 of every output row in order (run ids aside), a batch at a time."""
    digest = hashlib.sha256()
    rows = 0
    for batch in _batches(output):
        frame = batch.to_pandas().drop(columns=["run_id"])
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        rows += len(frame)
    return rows, digest.hexdigest()


def _batches(output: str) -> Iterator[Any]:
    yield from ds.dataset(output, format="parquet").to_batches(batch_size=1_000_000)


def _worker_peaks(client: Client) -> list[int]:
    """Each worker process's peak resident memory so far, in MB."""
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return [round(kb / 1024) for kb in peaks.values()]


def _local_in_child(root: Path, start: datetime, loads: list[float]) -> dict[str, Any]:
    """Score a window with the local engine in a fresh process; its time and peak RSS."""
    loads.append(round(os.getloadavg()[0], 1))
    command = [sys.executable, __file__, "--child-local", str(root),
               "--window-start", start.isoformat()]  # fmt: skip
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    loads.append(round(os.getloadavg()[0], 1))
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _child_local(root: Path, window_start: str) -> None:
    """(In the child process) the local engine on one window: seconds, peak RSS, run id."""
    from shipml.project.batch import run_window
    from shipml.project.engines import LocalEngine
    from shipml.windows import Window

    sys.path.insert(0, str(EXAMPLE))
    project = _load(root)
    model = pickle.loads((root / "model.pickle").read_bytes())
    start = datetime.fromisoformat(window_start)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    outcome = run_window(project, Window(start, start + WINDOW), model=model,
                         engine=LocalEngine(), force=True)  # fmt: skip
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "seconds": round(seconds, 1), "peak_rss_mb": round(peak / 1024),
        "rss_before_mb": round(before / 1024), "run_id": outcome.run_id,
    }))  # fmt: skip


def _available_mb() -> int:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


if __name__ == "__main__":
    main()
