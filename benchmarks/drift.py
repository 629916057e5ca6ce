"""Drift benchmark: shipml vs Evidently's DataDriftPreset vs a hand-written scipy loop.

One run: a reference and a current frame of 1,000,000 rows x 15 columns (10 numeric,
5 categorical). Every column carries one injected case (no drift, mean shift, variance
change, nulls, new category, category mix change), so the same run gives the timings,
the peak memory and the drifted / not drifted verdict of each tool per column.

- shipml: `ProfileSpec.from_baseline` + `profile` of both frames + `detect_drift`
  (default thresholds). "window" is the part each new window costs once the baseline
  profile is stored: profiling the current frame and comparing.
- Evidently 0.7: `Report([DataDriftPreset()]).run(current, reference)` with the column
  types declared; its defaults at this size are normed Wasserstein >= 0.1 (numeric) and
  Jensen-Shannon >= 0.1 (categorical).
- scipy: the loop one writes by hand: KS (`ks_2samp`) or chi-square per column, drifted
  when p < 0.05, plus PSI on 10 quantile bins (reported, not used for the verdict).

Each tool runs in its own process on the same data, read from Parquet, with its imports
done before the clock starts; time and memory are measured around the computation only.
Wall time decides the goals; CPU time (`time.process_time`) and the load average are
printed too, because on a shared machine wall time also measures the neighbours.
Memory: "work" is the peak resident set size during the computation (VmHWM, reset after
loading, and after `malloc_trim` returned what loading freed) minus the resident size
after loading; the goal compares frames + work with the frames' own size
(`memory_usage(deep=True)`). The absolute peak RSS (interpreter, libraries, what Parquet
reading left behind) is printed too, not judged. Linux and glibc only.
Every tool runs with OPENBLAS_NUM_THREADS=1: on a busy 2-core machine OpenBLAS's threads
spin-wait for each other (one 1M-element dot product took 15 ms instead of 0.5 ms).

Evidently 0.7.23 does not import under pandas 3, so it runs in its own virtualenv,
created on first use (about 100 s and 1 GB):

    python3.11 -m venv benchmarks/.venv-evidently
    benchmarks/.venv-evidently/bin/pip install 'pandas<3' 'evidently==0.7.*' pyarrow

Usage: python benchmarks/drift.py [--rows N] [--skip-evidently]
The last line printed is one JSON object with the times, peak memory and ratios.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from _peers import peer_environment

HERE = Path(__file__).resolve().parent
EVIDENTLY_VENV = HERE / ".venv-evidently"
EVIDENTLY_REQUIREMENTS = ("pandas<3", "evidently==0.7.*", "pyarrow")
SEED = 6
GOAL_VS_EVIDENTLY = 50.0
GOAL_MEMORY_RATIO = 1.5


@dataclass(frozen=True)
class Case:
    """One column: how its reference and current values are drawn, and the expected verdict."""

    column: str
    kind: str  # "numeric" or "categorical"
    description: str
    drifted: bool  # the expected verdict
    draw: Callable[[np.random.Generator, int, bool], Any]  # (rng, rows, is_current) -> values


def _normal(shift: float = 0.0, scale: float = 1.0) -> Callable[..., Any]:
    def draw(rng: np.random.Generator, rows: int, current: bool) -> np.ndarray:
        return rng.normal(shift if current else 0.0, scale if current else 1.0, rows)

    return draw


def _with_nulls(share: float) -> Callable[..., Any]:
    def draw(rng: np.random.Generator, rows: int, current: bool) -> np.ndarray:
        values = rng.normal(0.0, 1.0, rows)
        if current:
            values[rng.random(rows) < share] = np.nan
        return values

    return draw


def _stable(sample: Callable[[np.random.Generator, int], np.ndarray]) -> Callable[..., Any]:
    return lambda rng, rows, current: sample(rng, rows)


def _categories(
    labels: list[str], reference: list[float], current: list[float] | None = None
) -> Callable[..., Any]:
    def draw(rng: np.random.Generator, rows: int, is_current: bool) -> np.ndarray:
        shares = current if is_current and current is not None else reference
        return rng.choice(labels, rows, p=shares)

    return draw


def _new_category(share: float) -> Callable[..., Any]:
    def draw(rng: np.random.Generator, rows: int, current: bool) -> np.ndarray:
        values = rng.choice(["north", "south", "east", "west"], rows).astype(object)
        if current:
            values[rng.random(rows) < share] = "offshore"
        return values

    return draw


def _categorical_nulls(share: float) -> Callable[..., Any]:
    def draw(rng: np.random.Generator, rows: int, current: bool) -> np.ndarray:
        values = rng.choice(["a", "b", "c"], rows).astype(object)
        if current:
            values[rng.random(rows) < share] = None
        return values

    return draw


_ZIPF_LABELS = [f"item_{i:03d}" for i in range(200)]
_ZIPF_SHARES = list(1 / np.arange(1, 201) / np.sum(1 / np.arange(1, 201)))

CASES = (
    Case(
        "n_stable_normal",
        "numeric",
        "no drift (normal)",
        False,
        _stable(lambda rng, n: rng.normal(50, 10, n)),
    ),
    Case(
        "n_stable_lognormal",
        "numeric",
        "no drift (skewed)",
        False,
        _stable(lambda rng, n: rng.lognormal(3, 0.5, n)),
    ),
    Case(
        "n_stable_discrete",
        "numeric",
        "no drift (counts 0..20)",
        False,
        _stable(lambda rng, n: rng.poisson(5, n).astype(float)),
    ),
    Case(
        "n_stable_uniform",
        "numeric",
        "no drift (uniform)",
        False,
        _stable(lambda rng, n: rng.uniform(0, 1, n)),
    ),
    Case("n_tiny_shift", "numeric", "mean shift of 0.02 sd (negligible)", False, _normal(0.02)),
    Case("n_mean_shift_moderate", "numeric", "mean shift of 0.2 sd", True, _normal(0.2)),
    Case("n_mean_shift", "numeric", "mean shift of 0.5 sd", True, _normal(0.5)),
    Case("n_variance", "numeric", "standard deviation x 1.5", True, _normal(0.0, 1.5)),
    Case("n_nulls", "numeric", "10% nulls, same values otherwise", True, _with_nulls(0.10)),
    Case(
        "n_few_nulls", "numeric", "1% nulls (below the 5-point threshold)", False, _with_nulls(0.01)
    ),
    Case(
        "c_stable",
        "categorical",
        "no drift (5 categories)",
        False,
        _categories(list("vwxyz"), [0.4, 0.25, 0.15, 0.1, 0.1]),
    ),
    Case(
        "c_high_cardinality",
        "categorical",
        "no drift (200 categories, Zipf)",
        False,
        _categories(_ZIPF_LABELS, _ZIPF_SHARES),
    ),
    Case(
        "c_new_category",
        "categorical",
        "10% of rows in an unseen category",
        True,
        _new_category(0.10),
    ),
    Case(
        "c_mix_change",
        "categorical",
        "shares 50/30/20 -> 30/30/40",
        True,
        _categories(["idle", "run", "stop"], [0.5, 0.3, 0.2], [0.3, 0.3, 0.4]),
    ),
    Case("c_nulls", "categorical", "10% nulls", True, _categorical_nulls(0.10)),
)
NUMERIC = [case.column for case in CASES if case.kind == "numeric"]
CATEGORICAL = [case.column for case in CASES if case.kind == "categorical"]

_P_VALUE = (
    "a test at p < 0.05 flags about 1 in 20 unchanged columns by chance, and at this size "
    "also negligible changes (a 0.02 sd shift): p-values measure the sample size, not the "
    "size of the change."
)
_NULLS_DROPPED = (
    "{tool} drops nulls before testing and has no null-rate check; the values left are "
    "unchanged. shipml checks every column's null rate separately."
)
_PSI_MODERATE = (
    "PSI of a 0.2 sd mean shift is about 0.04, under the 0.2 default (PSI 0.2 is roughly a "
    "0.45 sd shift), while Evidently's normed Wasserstein >= 0.1 flags shifts from 0.1 sd. "
    "A lower psi threshold (e.g. 0.03) catches it."
)


def explain(tool: str, case: Case) -> str:
    """Why `tool`'s verdict on `case` differs from the expected one."""
    if tool == "scipy" and not case.drifted:
        return _P_VALUE
    if tool in ("scipy", "evidently") and case.column.endswith("nulls"):
        return _NULLS_DROPPED.format(tool=tool)
    if tool == "shipml" and case.column == "n_mean_shift_moderate":
        return _PSI_MODERATE
    return "not expected: look at the scores in the JSON output of this tool."


def make_frames(rows: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference and the current frame, each `rows` x 15, cases as in `CASES`."""
    rng = np.random.default_rng(seed)
    frames = []
    for current in (False, True):
        columns = {}
        for case in CASES:
            values = case.draw(rng, rows, current)
            dtype = "str" if case.kind == "categorical" else "float64"
            columns[case.column] = pd.Series(values, dtype=dtype)
        frames.append(pd.DataFrame(columns))
    return frames[0], frames[1]


# The three contenders: (reference, current) -> {"verdicts": {column: bool}, ...}


def run_shipml(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """Spec and profiles of both frames, then drift with the default thresholds."""
    from shipml.monitoring import ProfileSpec, detect_drift, profile

    started = time.perf_counter()
    spec = ProfileSpec.from_baseline(reference, numeric=NUMERIC, categorical=CATEGORICAL)
    reference_profile = profile(reference, spec)
    window_started = time.perf_counter()
    results = detect_drift(reference_profile, profile(current, spec))
    finished = time.perf_counter()
    verdicts = {column: False for column in NUMERIC + CATEGORICAL}
    scores: dict[str, dict[str, float | None]] = {}
    for result in results:
        verdicts[result.column] |= result.drifted
        scores.setdefault(result.column, {})[result.method] = result.value
    return {
        "verdicts": verdicts,
        "scores": scores,
        "window_seconds": finished - window_started,
        "inner_seconds": finished - started,
    }


def run_scipy(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """KS or chi-square per column (drifted when p < 0.05), plus PSI on 10 quantile bins."""
    from scipy import stats

    verdicts, scores = {}, {}
    for column in NUMERIC:
        expected = reference[column].dropna().to_numpy()
        actual = current[column].dropna().to_numpy()
        test = stats.ks_2samp(expected, actual)
        edges = np.quantile(expected, np.linspace(0, 1, 11))
        edges[0], edges[-1] = -np.inf, np.inf
        psi = _psi(np.histogram(expected, edges)[0], np.histogram(actual, edges)[0])
        verdicts[column] = bool(test.pvalue < 0.05)
        scores[column] = {"ks_pvalue": float(test.pvalue), "psi": psi}
    for column in CATEGORICAL:
        table = pd.concat(
            [reference[column].value_counts(), current[column].value_counts()], axis=1
        ).fillna(0)
        chi2 = stats.chi2_contingency(table.to_numpy().T)
        psi = _psi(table.iloc[:, 0].to_numpy(), table.iloc[:, 1].to_numpy())
        verdicts[column] = bool(chi2.pvalue < 0.05)
        scores[column] = {"chi2_pvalue": float(chi2.pvalue), "psi": psi}
    return {"verdicts": verdicts, "scores": scores}


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    p = np.maximum(expected / expected.sum(), 1e-4)
    q = np.maximum(actual / actual.sum(), 1e-4)
    return float(np.sum((q - p) * np.log(q / p)))


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """Evidently's DataDriftPreset with the column types declared."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    verdicts, scores = {}, {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        value, threshold, method = metric["value"], config["threshold"], config["method"]
        # p-value tests drift below the threshold, distances at or above it.
        drifted = value < threshold if "p_value" in method else value >= threshold
        verdicts[config["column"]] = bool(drifted)
        scores[config["column"]] = {method: float(value)}
    return {"verdicts": verdicts, "scores": scores}


CONTENDERS = {"shipml": run_shipml, "scipy": run_scipy, "evidently": run_evidently}
# Imported before the clock starts: a long-running service has them loaded already.
IMPORTS = {
    "shipml": ("pyarrow.parquet", "shipml.monitoring"),
    "scipy": ("pyarrow.parquet", "scipy.stats"),
    "evidently": ("pyarrow.parquet", "evidently", "evidently.presets"),
}


# One contender in this process


def measure(contender: str, data: Path) -> dict[str, Any]:
    """Load the frames, run the contender once, and time it and its peak memory."""
    run = CONTENDERS[contender]
    for module in IMPORTS[contender]:
        importlib.import_module(module)
    before_load = _status_kib("VmRSS")
    reference = pd.read_parquet(data / "reference.parquet")
    current = pd.read_parquet(data / "current.parquet")
    frames_bytes = int(
        reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum()
    )
    # Hand memory freed while loading back to the OS, so the computation cannot hide its
    # allocations in it; then restart the peak (VmHWM) from here.
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    after_load = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    outcome = run(reference, current)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak = _status_kib("VmHWM")
    return {
        "contender": contender,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "load_average": [load_before, os.getloadavg()[0]],
        "frames_bytes": frames_bytes,
        "peak_rss_bytes": peak * 1024,
        "loaded_rss_bytes": (after_load - before_load) * 1024,
        "work_bytes": max(0, peak - after_load) * 1024,
        **outcome,
    }


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


# The whole benchmark


def main() -> None:
    """Generate the data, run each contender in its own process, print tables and JSON."""
    arguments = _arguments()
    if arguments.contender:
        print(json.dumps(measure(arguments.contender, arguments.data)))
        return
    contenders = ["shipml", "scipy"] + ([] if arguments.skip_evidently else ["evidently"])
    if "evidently" in contenders:
        peer_environment(
            EVIDENTLY_VENV,
            EVIDENTLY_REQUIREMENTS,
            what="Evidently (once: about 100 s, 1 GB)",
            ready="python",
        )
    with tempfile.TemporaryDirectory(prefix="shipml-drift-") as folder:
        data = Path(folder)
        reference, current = make_frames(arguments.rows)
        reference.to_parquet(data / "reference.parquet")
        current.to_parquet(data / "current.parquet")
        del reference, current
        results = {name: _run_contender(name, data) for name in contenders}
    _print_timings(arguments.rows, results)
    _print_verdicts(results)
    print(json.dumps(_summary(arguments.rows, results)))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per frame")
    parser.add_argument("--skip-evidently", action="store_true", help="shipml and scipy only")
    parser.add_argument("--contender", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def _run_contender(name: str, data: Path) -> dict[str, Any]:
    python = EVIDENTLY_VENV / "bin" / "python" if name == "evidently" else Path(sys.executable)
    command = [str(python), str(Path(__file__).resolve()), "--contender", name, "--data", str(data)]
    # The system allocator gives freed Arrow buffers back, so peaks are not inflated by a pool.
    environment = {
        **os.environ,
        "ARROW_DEFAULT_MEMORY_POOL": "system",
        "OPENBLAS_NUM_THREADS": "1",
    }
    print(f"running {name} ...", flush=True)
    finished = subprocess.run(command, capture_output=True, text=True, env=environment)
    if finished.returncode != 0:
        raise SystemExit(f"{name} failed:\n{finished.stderr[-3000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def _print_timings(rows: int, results: dict[str, dict[str, Any]]) -> None:
    frames = results["shipml"]["frames_bytes"]
    print(
        f"\n{rows:,} rows x {len(CASES)} columns, reference and current "
        f"(shipml's frames: {frames / 1e6:.0f} MB in memory)"
    )
    print(f"{'tool':<10} {'seconds':>8} {'CPU s':>8} {'work MB':>8} {'peak RSS MB':>12} load")
    for name, result in results.items():
        load = " -> ".join(f"{value:.1f}" for value in result["load_average"])
        print(
            f"{name:<10} {result['seconds']:>8.2f} {result['cpu_seconds']:>8.2f} "
            f"{result['work_bytes'] / 1e6:>8.0f} {result['peak_rss_bytes'] / 1e6:>12.0f} {load}"
        )
    shipml = results["shipml"]
    print(
        f"shipml per window (current profile + drift, baseline stored): "
        f"{shipml['window_seconds']:.2f} s"
    )


def _print_verdicts(results: dict[str, dict[str, Any]]) -> None:
    names = list(results)
    print(f"\n{'column':<22} {'case':<40} {'expected':<9} " + " ".join(f"{n:<9}" for n in names))
    disagreements = []
    for case in CASES:
        cells = []
        for name in names:
            verdict = results[name]["verdicts"].get(case.column)
            cells.append(_verdict(verdict))
            if verdict != case.drifted:
                disagreements.append((name, case))
        print(
            f"{case.column:<22} {case.description:<40} {_verdict(case.drifted):<9} "
            + " ".join(f"{cell:<9}" for cell in cells)
        )
    print("\nverdicts that differ from the expected one:")
    for name, case in disagreements:
        print(f"- {name} on {case.column}: {explain(name, case)}")


def _verdict(drifted: bool | None) -> str:
    return "-" if drifted is None else ("drift" if drifted else "ok")


def _summary(rows: int, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    shipml = results["shipml"]
    memory_ratio = (shipml["frames_bytes"] + shipml["work_bytes"]) / shipml["frames_bytes"]
    seconds = {name: round(result["seconds"], 3) for name, result in results.items()}
    summary: dict[str, Any] = {
        "benchmark": "drift",
        "rows": rows,
        "columns": len(CASES),
        "seconds": seconds,
        "cpu_seconds": {name: round(result["cpu_seconds"], 3) for name, result in results.items()},
        "shipml_window_seconds": round(shipml["window_seconds"], 3),
        "peak_rss_mb": {n: round(r["peak_rss_bytes"] / 1e6) for n, r in results.items()},
        "work_mb": {n: round(r["work_bytes"] / 1e6) for n, r in results.items()},
        "shipml_frames_mb": round(shipml["frames_bytes"] / 1e6),
        "shipml_memory_over_frames": round(memory_ratio, 2),
        "speedup_vs_scipy": _ratio(results["scipy"]["seconds"], shipml["seconds"]),
        "speedup_vs_scipy_cpu": _ratio(results["scipy"]["cpu_seconds"], shipml["cpu_seconds"]),
        "verdicts_as_expected": {
            name: sum(result["verdicts"].get(c.column) == c.drifted for c in CASES)
            for name, result in results.items()
        },
    }
    goals = {
        "faster_than_scipy": summary["speedup_vs_scipy"] > 1,
        "memory_under_1_5x_frames": memory_ratio < GOAL_MEMORY_RATIO,
    }
    if "evidently" in results:
        evidently = results["evidently"]["seconds"]
        summary["speedup_vs_evidently"] = _ratio(evidently, shipml["seconds"])
        summary["speedup_vs_evidently_cpu"] = _ratio(
            results["evidently"]["cpu_seconds"], shipml["cpu_seconds"]
        )
        summary["speedup_vs_evidently_per_window"] = _ratio(evidently, shipml["window_seconds"])
        goals["50x_faster_than_evidently"] = summary["speedup_vs_evidently"] >= GOAL_VS_EVIDENTLY
    summary["goals_met"] = goals
    return summary


def _ratio(slower: float, faster: float) -> float:
    return round(slower / faster, 1)


if __name__ == "__main__":
    main()
