"""Batch benchmark: 1,000,000 sensor readings through the sensors pipeline, shipml vs plain.

Both variants read the same Parquet file, run the same step functions (preprocess, featurize,
predict with a scikit-learn HistGradientBoosting model, postprocess) and write Parquet. shipml's
batch-window function adds what production needs: contract validation at every boundary, step
timings, row accounting, the run record and lineage, monitoring (profile, drift, prediction
shift) and an atomic output. Each variant runs in its own process (peak RSS is the process's
own high-water mark), alternating, and the median of the repeats is reported.

    python benchmarks/batch.py [--rows 1000000] [--repeats 3]

The last line is one JSON object with both times, both peak RSS figures and the ratios.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "sensors"
WINDOW_START = datetime(2026, 3, 20, tzinfo=UTC)
SETTINGS = """
[project]
name = "sensors"
[source]
kind = "files"
path = "data/readings_{start:%Y%m%dT%H%M}.parquet"
[validation]
policy = "quarantine"
"""


def main() -> None:
    """Prepare the data and model once, then time both variants in fresh processes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variant", choices=["plain", "shipml"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.variant:
        _run_variant(arguments.variant, arguments.workdir)
        return
    with tempfile.TemporaryDirectory(prefix="shipml-bench-batch-") as directory:
        workdir = Path(directory)
        started = time.perf_counter()
        _prepare(workdir, arguments.rows)
        print(f"prepared {arguments.rows:,} rows in {time.perf_counter() - started:.1f} s")
        figures: dict[str, list[dict[str, float]]] = {"plain": [], "shipml": []}
        for _ in range(arguments.repeats):
            for variant in ("plain", "shipml"):
                figures[variant].append(_measure(variant, workdir))
    _report(arguments.rows, figures)


def _prepare(workdir: Path, rows: int) -> None:
    """Simulated readings (the window file), a trained model and its baselines."""
    sys.path.insert(0, str(EXAMPLE))
    import simulator
    import steps

    from shipml.contracts import Baseline
    from shipml.monitoring import MonitoringBaseline
    from shipml.project.baselines import ModelBaselines

    machines = 200
    minutes = -(-rows // machines)
    live = simulator.simulate(
        WINDOW_START, WINDOW_START + timedelta(minutes=minutes), machines=machines, seed=1,
        labelled=False,
    ).head(rows)  # fmt: skip
    project = workdir / "project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", "data"))
    (project / "shipml.toml").write_text(SETTINGS)
    (project / "data").mkdir()
    live.to_parquet(project / "data" / f"readings_{WINDOW_START:%Y%m%dT%H%M}.parquet")

    history = simulator.simulate(
        WINDOW_START - timedelta(days=2), WINDOW_START, machines=60, seed=0
    )
    plain = {name: getattr(steps, name).func for name in ("preprocess", "featurize", "predict")}
    features = plain["featurize"](plain["preprocess"](history))
    model = steps.train.func(features)
    predictions = plain["predict"](features.drop(columns=["failure_within_1h"]), model)
    outputs = predictions[predictions.columns.difference(features.columns)]
    baselines = ModelBaselines(
        inputs=Baseline.from_frame(history.drop(columns=["failure_within_1h"])),
        monitoring=MonitoringBaseline.from_training(
            features.drop(columns=["failure_within_1h"]), outputs, "failure_probability"
        ),
    )
    (workdir / "model.pkl").write_bytes(pickle.dumps(model))
    (workdir / "baselines.json").write_text(json.dumps(baselines.to_json()))


def _measure(variant: str, workdir: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--variant", variant, "--workdir", str(workdir)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{completed.stdout}\n{completed.stderr}")
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    print(f"  {variant:7s} {figures['seconds']:7.2f} s   peak RSS {figures['peak_rss_mb']:7.0f} MB")
    return figures


def _run_variant(variant: str, workdir: Path) -> None:
    """Inside a fresh process: load what both share, then time only the variant's own work."""
    project_dir = workdir / "project"
    sys.path.insert(0, str(project_dir))
    import pandas as pd  # noqa: F401  (imported before timing, as both variants need it)
    import steps

    from shipml.project.batch import run_window
    from shipml.project.project import Project
    from shipml.windows import Window

    model = pickle.loads((workdir / "model.pkl").read_bytes())
    window = Window(WINDOW_START, WINDOW_START + timedelta(minutes=15))
    if variant == "plain":
        started = time.perf_counter()
        _plain(steps, model, project_dir)
    else:
        from shipml.versioning.tracking import LoadedModel, ModelRef, ModelVersionInfo

        info = ModelVersionInfo(ModelRef("sensors", "1", "champion"), ("champion",), WINDOW_START)
        baselines = json.loads((workdir / "baselines.json").read_text())
        loaded = LoadedModel(model=model, info=info, baseline=baselines)
        project = Project.load(project_dir)
        started = time.perf_counter()
        outcome = run_window(project, window, model=loaded, force=True)
        assert outcome.rows_out > 0
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb}))


def _plain(steps: object, model: object, project_dir: Path) -> None:
    """The same step functions, called one after the other: what a notebook would do."""
    import pandas as pd

    source = project_dir / "data" / f"readings_{WINDOW_START:%Y%m%dT%H%M}.parquet"
    readings = pd.read_parquet(source)
    clean = steps.preprocess.func(readings)  # type: ignore[attr-defined]
    features = steps.featurize.func(clean)  # type: ignore[attr-defined]
    predictions = steps.predict.func(features, model)  # type: ignore[attr-defined]
    scored = steps.postprocess.func(predictions)  # type: ignore[attr-defined]
    target = project_dir / "outputs" / "plain.parquet"
    target.parent.mkdir(exist_ok=True)
    scored.to_parquet(target)


def _report(rows: int, figures: dict[str, list[dict[str, float]]]) -> None:
    median = {
        variant: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for variant, runs in figures.items()
    }
    time_ratio = median["shipml"]["seconds"] / median["plain"]["seconds"]
    rss_ratio = median["shipml"]["peak_rss_mb"] / median["plain"]["peak_rss_mb"]
    print()
    print(f"{'variant':8s} {'seconds':>9s} {'rows/s':>12s} {'peak RSS MB':>12s}")
    for variant, values in median.items():
        print(
            f"{variant:8s} {values['seconds']:9.2f} {rows / values['seconds']:12,.0f} "
            f"{values['peak_rss_mb']:12.0f}"
        )
    print(
        f"shipml / plain: time {time_ratio:.2f}x (goal <= 1.3), RSS {rss_ratio:.2f}x (goal <= 1.5)"
    )
    print(
        json.dumps(
            {
                "benchmark": "batch",
                "rows": rows,
                "plain_seconds": round(median["plain"]["seconds"], 3),
                "shipml_seconds": round(median["shipml"]["seconds"], 3),
                "plain_peak_rss_mb": round(median["plain"]["peak_rss_mb"], 1),
                "shipml_peak_rss_mb": round(median["shipml"]["peak_rss_mb"], 1),
                "time_ratio": round(time_ratio, 3),
                "rss_ratio": round(rss_ratio, 3),
                "runs": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
