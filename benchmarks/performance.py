"""Performance benchmark: shipml's CBPE and realized performance vs NannyML 0.13, same data.

Data (seeded): a binary model whose raw probabilities are overconfident (the logit of the true
probability times 1.5, so calibration is needed), a reference (the holdout) of 100,000 rows
and an analysis of 1,000,000 rows in 100 windows of 10,000; in the last 20 windows the model
hesitates (its logit halves), so its confidence moves. Columns: y_pred_proba, y_pred
(probability >= 0.5), y_true. Metrics: ROC AUC, F1, accuracy, precision, recall.

- shipml: `EstimationReference.from_holdout` (NannyML's calibration check, isotonic
  calibration, the holdout kept for the chunk baseline), then per window its
  `ConfidenceSummary` and `estimate_window` (the five estimates and the k-sigma rule on holdout
  chunks of the window's size). Realized performance per window: shipml's own
  `judge_window`, as `shipml labels ingest` runs it (the training metrics of
  `task_metrics.score_holdout`, scikit-learn's functions, on the window's rows, judged against
  holdout chunks of the window's size, computed once for the run).
- NannyML 0.13: `CBPE(problem_type="classification_binary", chunk_size=10_000, metrics=...)`
  `.fit(reference).estimate(analysis)`, and `PerformanceCalculator(...)` `.fit(reference)`
  `.calculate(analysis)`.
- One new window: shipml parses the reference from its stored JSON (as a batch window loads
  the model version's baseline), whose chunk baseline for windows of 10,000 rows was stored
  at training (`window_rows`, as training stores the window sizes its data shows), then
  summarizes and judges the window ("cold"). "Unstored": the same for a size whose
  baseline was not stored (the holdout's rows decoded and cut into chunks). "Warm": the
  same in a process that has the reference loaded. NannyML, already fitted, estimates that
  one chunk (`estimate` on 10,000 rows). Each is timed `--window-repeat` times in the
  process; the median counts.

Each tool runs in its own process per turn (NannyML in its own virtualenv, built on first
use: about 2 minutes), the data read from Parquet and the imports done before the clock
starts. The tools take turns, `--repeat` each, the order alternating each turn; median and
worst (slowest) of each, their ratios, and the ratio within each turn. Memory: the peak RSS
during the whole run (VmHWM, reset after loading and `malloc_trim`) minus the RSS after
loading. The estimates of both tools are compared window by window (largest absolute
difference per metric), and so are the realized values. OPENBLAS_NUM_THREADS=1 as in the other
benchmarks; NML_DISABLE_USAGE_LOGGING=1 stops NannyML's usage reporting.

Usage: python benchmarks/performance.py [--repeat R] [--window-repeat W] [--skip-nannyml]
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _peers import peer_environment

HERE = Path(__file__).resolve().parent
NANNYML_VENV = HERE / ".venv-nannyml"
NANNYML_REQUIREMENTS = ("nannyml==0.13.*", "statsmodels", "pyarrow")
SEED = 16
REFERENCE_ROWS = 100_000
WINDOWS = 100
WINDOW_ROWS = 10_000
DEGRADED_WINDOWS = 20
METRICS = ("roc_auc", "f1", "accuracy", "precision", "recall")
FIRST_WINDOW = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW_SPAN = timedelta(hours=1)
GOAL_AGREEMENT = 0.01
GOAL_WHOLE = 5.0
GOAL_WINDOW = 50.0
GOAL_MEMORY = 0.5
IMPORTS = {
    "shipml": (
        "pyarrow.parquet",
        "shipml.monitoring",
        "shipml.project.performance",
        "sklearn.isotonic",
        "sklearn.metrics",
    ),
    "nannyml": ("pyarrow.parquet", "nannyml"),
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1 / (1 + np.exp(-x))
    return result


def make_frames(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference and the analysis frame (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    frames = []
    for rows, degraded in ((REFERENCE_ROWS, 0), (WINDOWS * WINDOW_ROWS, DEGRADED_WINDOWS)):
        signal = rng.normal(-1.0, 1.6, rows)
        truth = rng.random(rows) < _sigmoid(signal)
        confidence = np.full(rows, 1.5)
        confidence[rows - degraded * WINDOW_ROWS :] = 0.75
        probability = _sigmoid(confidence * signal)
        frames.append(
            pd.DataFrame(
                {
                    "y_pred_proba": probability,
                    "y_pred": (probability >= 0.5).astype(np.int64),
                    "y_true": truth.astype(np.int64),
                }
            )
        )
    return frames[0], frames[1]


# shipml


def realized(reference: pd.DataFrame, analysis: pd.DataFrame) -> tuple[dict[str, list[float]], int]:
    """shipml's realized performance of every window, as `shipml labels ingest` computes it
    (`judge_window`: the training metrics on the window's labelled rows, judged against
    holdout chunks of its size), and the number of windows it alerted on."""
    from shipml.project.outputs import PredictionLayout
    from shipml.project.performance import judge_window, performance_reference, reference_baseline
    from shipml.project.targets import Target
    from shipml.windows import Window

    target = Target("y_true", "binary", (0, 1), 1)
    layout = PredictionLayout("y_pred", {1: "y_pred_proba"})
    columns = ["y_pred", "y_pred_proba"]
    holdout = performance_reference(
        target, layout, reference["y_true"], reference[columns], threshold=0.5
    )
    baseline = reference_baseline(holdout, WINDOW_ROWS)  # windows of one size share it
    found: dict[str, list[float]] = {metric: [] for metric in METRICS}
    alerted = 0
    for index in range(WINDOWS):
        rows = analysis.iloc[index * WINDOW_ROWS : (index + 1) * WINDOW_ROWS]
        rows = rows.reset_index(drop=True)
        start = FIRST_WINDOW + index * WINDOW_SPAN
        record = judge_window(
            holdout,
            rows["y_true"],
            rows[columns],
            window=Window(start, start + WINDOW_SPAN),
            name=str(index),
            model_version="1",
            predicted=len(rows),
            min_labels=1,
            baseline=baseline,
        )
        for metric in METRICS:
            found[metric].append(record.metrics[metric])
        alerted += bool(record.degraded)
    return found, alerted


def run_shipml(reference: pd.DataFrame, analysis: pd.DataFrame) -> dict[str, Any]:
    """Fit on the reference, estimate and judge every window, then the realized metrics."""
    from shipml.monitoring import EstimationReference, estimate_window

    started = time.perf_counter()
    fitted = EstimationReference.from_holdout(
        reference,
        reference["y_true"].to_numpy(),
        "y_pred_proba",
        label="y_pred",
        positive_label=1,
        window_rows=[WINDOW_ROWS],  # as training stores its data's window size
    )
    estimated: dict[str, list[float | None]] = {metric: [] for metric in METRICS}
    alerts = 0
    for index in range(WINDOWS):
        window = analysis.iloc[index * WINDOW_ROWS : (index + 1) * WINDOW_ROWS]
        results = estimate_window(fitted, fitted.summarize(window))
        for result in results:
            estimated[result.metric].append(result.value)
        alerts += any(r.dropped for r in results if r.metric in ("roc_auc", "f1", "accuracy"))
    cbpe = time.perf_counter() - started
    truth, realized_alerts = realized(reference, analysis)
    return {
        "cbpe_seconds": cbpe,
        "realized_seconds": time.perf_counter() - started - cbpe,
        "estimated": estimated,
        "realized": truth,
        "windows_alerted": alerts,
        "windows_alerted_realized": realized_alerts,
        "calibrated": fitted.calibration is not None,
        "stored_reference": fitted.model_dump_json(),
    }


def window_shipml(stored: str, window: pd.DataFrame) -> float:
    """One new window from the stored reference: load it, summary, verdicts on its baseline."""
    from shipml.monitoring import EstimationReference, estimate_window

    started = time.perf_counter()
    reference = EstimationReference.model_validate_json(stored)
    estimate_window(reference, reference.summarize(window))
    return time.perf_counter() - started


def unstored_window_shipml(stored: str, window: pd.DataFrame) -> float:
    """One new window of a size whose baseline was not stored: computed from the holdout."""
    from shipml.monitoring import EstimationReference

    reference = EstimationReference.model_validate_json(stored)
    unstored = reference.model_copy(update={"baselines": []}).model_dump_json()
    return window_shipml(unstored, window)


def warm_window_shipml(stored: str, window: pd.DataFrame) -> float:
    """One more window of the same size in a process that has the reference loaded."""
    from shipml.monitoring import EstimationReference, estimate_window

    reference = EstimationReference.model_validate_json(stored)
    estimate_window(reference, reference.summarize(window))  # loads and caches the chunks
    started = time.perf_counter()
    estimate_window(reference, reference.summarize(window))
    return time.perf_counter() - started


# NannyML


def _nannyml_options() -> dict[str, Any]:
    return {
        "problem_type": "classification_binary",
        "y_pred_proba": "y_pred_proba",
        "y_pred": "y_pred",
        "y_true": "y_true",
        "metrics": list(METRICS),
        "chunk_size": WINDOW_ROWS,
    }


def run_nannyml(reference: pd.DataFrame, analysis: pd.DataFrame) -> dict[str, Any]:
    """CBPE fit + estimate, then PerformanceCalculator fit + calculate, on the same frames."""
    import nannyml as nml

    started = time.perf_counter()
    estimator = nml.CBPE(**_nannyml_options()).fit(reference)
    estimates = estimator.estimate(analysis).filter(period="analysis").to_df()
    cbpe = time.perf_counter() - started
    calculator = nml.PerformanceCalculator(**_nannyml_options()).fit(reference)
    calculated = calculator.calculate(analysis).filter(period="analysis").to_df()
    return {
        "cbpe_seconds": cbpe,
        "realized_seconds": time.perf_counter() - started - cbpe,
        "estimated": {m: _column(estimates, m) for m in METRICS},
        "realized": {m: _column(calculated, m) for m in METRICS},
        "windows_alerted": int(
            sum(estimates[(m, "alert")].astype(bool) for m in ("roc_auc", "f1", "accuracy"))
            .astype(bool)
            .sum()
        ),
        "calibrated": bool(estimator.needs_calibration),
        "estimator": estimator,
    }


def _column(frame: pd.DataFrame, metric: str) -> list[float]:
    return [float(v) for v in frame[(metric, "value")]]


# One contender in this process


def measure(contender: str, data: Path, window_repeat: int) -> dict[str, Any]:
    """Load the frames, run the whole benchmark once and one window `window_repeat` times."""
    for module in IMPORTS[contender]:
        importlib.import_module(module)
    before_load = _status_kib("VmRSS")
    reference = pd.read_parquet(data / "reference.parquet")
    analysis = pd.read_parquet(data / "analysis.parquet")
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    after_load = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    outcome = (run_shipml if contender == "shipml" else run_nannyml)(reference, analysis)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak = _status_kib("VmHWM")
    last = analysis.iloc[-WINDOW_ROWS:]
    warm = unstored = None
    if contender == "shipml":
        stored = outcome.pop("stored_reference")
        windows = [window_shipml(stored, last) for _ in range(window_repeat)]
        warm = statistics.median(warm_window_shipml(stored, last) for _ in range(window_repeat))
        unstored = statistics.median(
            unstored_window_shipml(stored, last) for _ in range(window_repeat)
        )
        stored_bytes = len(stored)
    else:
        estimator = outcome.pop("estimator")
        windows = []
        for _ in range(window_repeat):
            window_started = time.perf_counter()
            estimator.estimate(last)
            windows.append(time.perf_counter() - window_started)
        stored_bytes = None
    return {
        "contender": contender,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "window_seconds": statistics.median(windows),
        "warm_window_seconds": warm,
        "unstored_window_seconds": unstored,
        "load_average": [load_before, os.getloadavg()[0]],
        "work_bytes": max(0, peak - after_load) * 1024,
        "loaded_rss_bytes": (after_load - before_load) * 1024,
        "stored_reference_bytes": stored_bytes,
        **outcome,
    }


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


# The whole benchmark


def main() -> None:
    """Generate the data, run the tools in alternating turns, print the figures and JSON."""
    arguments = _arguments()
    if arguments.contender:
        result = measure(arguments.contender, arguments.data, arguments.window_repeat)
        print(json.dumps(result))
        return
    contenders = ["shipml"] + ([] if arguments.skip_nannyml else ["nannyml"])
    if "nannyml" in contenders:
        peer_environment(
            NANNYML_VENV,
            NANNYML_REQUIREMENTS,
            what="NannyML (once: about 2 minutes)",
            ready="python",
        )
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    with tempfile.TemporaryDirectory(prefix="shipml-performance-") as folder:
        data = Path(folder)
        reference, analysis = make_frames()
        reference.to_parquet(data / "reference.parquet")
        analysis.to_parquet(data / "analysis.parquet")
        del reference, analysis
        for turn in range(arguments.repeat):
            order = contenders if turn % 2 == 0 else list(reversed(contenders))
            for name in order:
                run = _run_contender(name, data, arguments.window_repeat)
                runs[name].append(run)
                print(
                    f"turn {turn + 1} {name}: whole {run['seconds']:.2f} s "
                    f"(CBPE {run['cbpe_seconds']:.2f}, realized {run['realized_seconds']:.2f}), "
                    f"one window {run['window_seconds'] * 1e3:.1f} ms, "
                    f"work {run['work_bytes'] / 1e6:.0f} MB, load {run['load_average'][0]:.1f}",
                    flush=True,
                )
    summary = _summary(runs)
    _print_summary(summary)
    print(json.dumps(summary))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="turns (each tool once a turn)")
    parser.add_argument("--window-repeat", type=int, default=9, help="one-window timings")
    parser.add_argument("--skip-nannyml", action="store_true", help="shipml only")
    parser.add_argument("--contender", choices=sorted(IMPORTS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def _run_contender(name: str, data: Path, window_repeat: int) -> dict[str, Any]:
    python = NANNYML_VENV / "bin" / "python" if name == "nannyml" else Path(sys.executable)
    command = [
        str(python), str(Path(__file__).resolve()), "--contender", name, "--data", str(data),
        "--window-repeat", str(window_repeat),
    ]  # fmt: skip
    environment = {
        **os.environ,
        "ARROW_DEFAULT_MEMORY_POOL": "system",
        "OPENBLAS_NUM_THREADS": "1",
        "NML_DISABLE_USAGE_LOGGING": "1",
    }
    finished = subprocess.run(command, capture_output=True, text=True, env=environment)
    if finished.returncode != 0:
        raise SystemExit(f"{name} failed:\n{finished.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def _summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    shipml = runs["shipml"]
    summary: dict[str, Any] = {
        "benchmark": "performance",
        "reference_rows": REFERENCE_ROWS,
        "analysis_rows": WINDOWS * WINDOW_ROWS,
        "windows": WINDOWS,
        "turns": len(shipml),
        "load_average_1m_by_turn": [round(run["load_average"][0], 1) for run in shipml],
        "shipml_calibrated": shipml[-1]["calibrated"],
        "shipml_windows_alerted": shipml[-1]["windows_alerted"],
        "shipml_windows_alerted_realized": shipml[-1]["windows_alerted_realized"],
        "shipml_stored_reference_kb": round(shipml[-1]["stored_reference_bytes"] / 1e3),
    }
    for figure in ("warm_window_seconds", "unstored_window_seconds"):
        summary[f"shipml_{figure}_median"] = round(
            statistics.median(run[figure] for run in shipml), 5
        )
        summary[f"shipml_{figure}_worst"] = round(max(run[figure] for run in shipml), 5)
    for name, found in runs.items():
        figures = ["seconds", "cpu_seconds", "cbpe_seconds", "realized_seconds", "window_seconds"]
        for figure in figures:
            values = [run[figure] for run in found]
            summary[f"{name}_{figure}_median"] = round(statistics.median(values), 4)
            summary[f"{name}_{figure}_worst"] = round(max(values), 4)
        summary[f"{name}_work_mb_median"] = round(
            statistics.median(run["work_bytes"] for run in found) / 1e6, 1
        )
        summary[f"{name}_work_mb_worst"] = round(max(run["work_bytes"] for run in found) / 1e6, 1)
    if "nannyml" not in runs:
        return summary
    nannyml = runs["nannyml"]
    summary["nannyml_calibrated"] = nannyml[-1]["calibrated"]
    summary["nannyml_windows_alerted"] = nannyml[-1]["windows_alerted"]
    for figure, key in (("seconds", "whole"), ("window_seconds", "window")):
        theirs = [run[figure] for run in nannyml]
        ours = [run[figure] for run in shipml]
        summary[f"speedup_{key}_median"] = round(
            statistics.median(theirs) / statistics.median(ours), 1
        )
        summary[f"speedup_{key}_worst"] = round(max(theirs) / max(ours), 1)
        by_turn = [t / o for t, o in zip(theirs, ours, strict=True)]
        summary[f"speedup_{key}_by_turn_worst"] = round(min(by_turn), 1)
    for kind in ("warm", "unstored"):
        summary[f"speedup_{kind}_window_median"] = round(
            summary["nannyml_window_seconds_median"]
            / summary[f"shipml_{kind}_window_seconds_median"],
            1,
        )
        summary[f"speedup_{kind}_window_worst"] = round(
            summary["nannyml_window_seconds_worst"]
            / summary[f"shipml_{kind}_window_seconds_worst"],
            1,
        )
    summary["speedup_whole_cpu_median"] = round(
        summary["nannyml_cpu_seconds_median"] / summary["shipml_cpu_seconds_median"], 1
    )
    for part in ("cbpe_seconds", "realized_seconds"):
        summary[f"speedup_{part.split('_')[0]}_median"] = round(
            summary[f"nannyml_{part}_median"] / summary[f"shipml_{part}_median"], 1
        )
    summary["memory_ratio_median"] = round(
        summary["shipml_work_mb_median"] / summary["nannyml_work_mb_median"], 3
    )
    summary["memory_ratio_worst"] = round(
        summary["shipml_work_mb_worst"] / summary["nannyml_work_mb_median"], 3
    )
    summary["max_abs_diff_estimated"] = _differences(
        shipml[-1]["estimated"], nannyml[-1]["estimated"]
    )
    summary["max_abs_diff_realized"] = _differences(shipml[-1]["realized"], nannyml[-1]["realized"])
    agreement = max(summary["max_abs_diff_estimated"].values())
    summary["goals_met"] = {
        "estimates_within_0.01": agreement <= GOAL_AGREEMENT,
        "whole_run_5x": summary["speedup_whole_worst"] >= GOAL_WHOLE,
        "one_window_50x": summary["speedup_window_worst"] >= GOAL_WINDOW,
        "memory_half": summary["memory_ratio_worst"] <= GOAL_MEMORY,
    }
    return summary


def _differences(
    ours: dict[str, list[float | None]], theirs: dict[str, list[float]]
) -> dict[str, float]:
    found = {}
    for metric in METRICS:
        a = np.array([np.nan if v is None else v for v in ours[metric]], dtype=float)
        b = np.array(theirs[metric], dtype=float)
        found[metric] = float(np.nanmax(np.abs(a - b)))
    return found


def _print_summary(summary: dict[str, Any]) -> None:
    print()
    for key, value in summary.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
