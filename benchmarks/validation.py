"""Validate a 1M x 15 frame with shipml, Pydantic row by row, Pandera, and a hand-written check.

    python benchmarks/validation.py [--rows N] [--repeat R] [--categories str|category|both]

The frame: 10 float columns (about 1% nulls, allowed, values in [0, 100]), 3 categorical
string columns (5, 10 and 20 levels), 1 datetime column (no nulls) and 1 int column (in
[0, 1000]). Categorical strings are pandas `str` columns (what `read_csv` gives) unless
`--categories category`. Every tool checks the same rules, on clean data and on data with
0.1% of rows broken (a null datetime, a float or int out of range, an unknown category).

- shipml: `validate(df, Reading)`; on broken data it raises `ContractViolation` with the
  report (policy "fail"). "shipml quarantine" also builds the valid and quarantined frames.
- Pydantic: `TypeAdapter(list[Reading]).validate_python(records)`, the records from
  `to_dict("records")` with NaN as None (else `float | None` would reject NaN); the
  conversion is timed too. Timed on a sample of at most 100,000 rows and extrapolated
  linearly to the full size.
- Pandera: the equivalent `DataFrameModel`, `validate(df, lazy=True)` (raises `SchemaErrors`
  with the failure cases on broken data).
- by hand: numpy/pandas masks per rule (`Series.isin` for the categories), the count and
  first 5 failing rows per rule.

Each tool runs in its own subprocesses on a freshly built frame, after a warm-up run.
Time: best of `--repeat` runs, wall clock and CPU (`process_time`, steadier on a shared
machine; the median wall time is in the JSON too). Peak memory, measured in a second
subprocess: the growth of the peak resident set size during one run (VmHWM, reset through
/proc/self/clear_refs just before) over the resident size then: what the tool allocates on
top of the frame, from any allocator (numpy, Arrow, Rust). That process runs with glibc's
mmap threshold fixed at 128 KiB and Arrow on the system allocator, so that freed arrays
leave the resident set at once and no peak hides in memory freed earlier (those settings
slow allocation down, hence the separate process for times).
The last line printed is one JSON object with every figure and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from shipml.contracts import ContractViolation, validate

PYDANTIC_SAMPLE = 100_000
BROKEN_FRACTION = 0.001
SITES = tuple(f"site_{i}" for i in range(5))
KINDS = tuple(f"kind_{i}" for i in range(10))
REGIONS = tuple(f"region_{i:02d}" for i in range(20))
FLOATS = tuple(f"x{i}" for i in range(10))

# ---------------------------------------------------------------- the rules, in each tool


class Reading(BaseModel):
    """One row, for shipml and Pydantic."""

    x0: float | None = Field(ge=0, le=100)
    x1: float | None = Field(ge=0, le=100)
    x2: float | None = Field(ge=0, le=100)
    x3: float | None = Field(ge=0, le=100)
    x4: float | None = Field(ge=0, le=100)
    x5: float | None = Field(ge=0, le=100)
    x6: float | None = Field(ge=0, le=100)
    x7: float | None = Field(ge=0, le=100)
    x8: float | None = Field(ge=0, le=100)
    x9: float | None = Field(ge=0, le=100)
    site: Literal[SITES]  # type: ignore[valid-type]
    kind: Literal[KINDS]  # type: ignore[valid-type]
    region: Literal[REGIONS]  # type: ignore[valid-type]
    ts: datetime
    count: int = Field(ge=0, le=1000)


def _measure() -> Any:
    return pa.Field(ge=0, le=100, nullable=True)


class ReadingSchema(pa.DataFrameModel):
    """The same rules for Pandera (string columns)."""

    x0: Series[float] = _measure()
    x1: Series[float] = _measure()
    x2: Series[float] = _measure()
    x3: Series[float] = _measure()
    x4: Series[float] = _measure()
    x5: Series[float] = _measure()
    x6: Series[float] = _measure()
    x7: Series[float] = _measure()
    x8: Series[float] = _measure()
    x9: Series[float] = _measure()
    site: Series[str] = pa.Field(isin=SITES)
    kind: Series[str] = pa.Field(isin=KINDS)
    region: Series[str] = pa.Field(isin=REGIONS)
    ts: Series[pd.Timestamp]
    count: Series[int] = pa.Field(ge=0, le=1000)


class CategoricalReadingSchema(ReadingSchema):
    """The same rules for Pandera, with category columns."""

    site: Series[pd.CategoricalDtype] = pa.Field(isin=SITES)
    kind: Series[pd.CategoricalDtype] = pa.Field(isin=KINDS)
    region: Series[pd.CategoricalDtype] = pa.Field(isin=REGIONS)


def check_by_hand(df: pd.DataFrame) -> dict[str, Any]:
    """The rules as numpy/pandas masks: failing rows, per rule their count and first rows."""
    broken: dict[str, np.ndarray] = {}
    for name in FLOATS:
        values = df[name].to_numpy()
        broken[name] = (values < 0) | (values > 100)  # NaN compares False: nulls pass
    for name, levels in (("site", SITES), ("kind", KINDS), ("region", REGIONS)):
        broken[name] = ~df[name].isin(levels).to_numpy()  # nulls are not in the levels
    broken["ts"] = df["ts"].isna().to_numpy()
    counts = df["count"].to_numpy()
    broken["count"] = (counts < 0) | (counts > 1000)
    invalid = np.logical_or.reduce(list(broken.values()))
    rules = {
        name: {"count": int(mask.sum()), "rows": np.flatnonzero(mask)[:5].tolist()}
        for name, mask in broken.items()
        if mask.any()
    }
    return {"invalid_rows": int(invalid.sum()), "rules": rules}


# ---------------------------------------------------------------- the data


def make_frame(rows: int, broken: bool, categories: str, seed: int = 0) -> pd.DataFrame:
    """The benchmark frame; `broken` breaks 0.1% of the rows, one rule each."""
    rng = np.random.default_rng(seed)
    columns: dict[str, Any] = {}
    for name in FLOATS:
        values = rng.uniform(0, 100, rows)
        values[rng.random(rows) < 0.01] = np.nan
        columns[name] = values
    for name, levels in (("site", SITES), ("kind", KINDS), ("region", REGIONS)):
        columns[name] = pd.Series(rng.choice(levels, rows), dtype="str")
    columns["ts"] = pd.date_range("2024-01-01", periods=rows, freq="s")
    columns["count"] = rng.integers(0, 1001, rows)
    df = pd.DataFrame(columns)
    if broken:
        _break(df, rng)
    if categories == "category":
        df = df.astype({"site": "category", "kind": "category", "region": "category"})
    return df


def _break(df: pd.DataFrame, rng: np.random.Generator) -> None:
    rows = rng.choice(len(df), max(1, int(len(df) * BROKEN_FRACTION)), replace=False)
    nulls, out_of_range, big_counts, unknown = np.array_split(rows, 4)
    df.loc[nulls, "ts"] = pd.NaT
    df.loc[out_of_range, "x3"] = 150.0
    df.loc[big_counts, "count"] = -1
    df.loc[unknown, "region"] = "region_99"


# ---------------------------------------------------------------- the tools


def run_shipml(df: pd.DataFrame) -> int:
    try:
        return validate(df, Reading).report.invalid_rows
    except ContractViolation as violation:
        return violation.report.invalid_rows


def run_shipml_quarantine(df: pd.DataFrame) -> int:
    result = validate(df, Reading, policy="quarantine", max_invalid_fraction=1.0)
    return len(result.quarantined)


def run_pandera(df: pd.DataFrame) -> int:
    schema = (
        CategoricalReadingSchema
        if isinstance(df["site"].dtype, pd.CategoricalDtype)
        else ReadingSchema
    )
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return int(errors.failure_cases["index"].nunique())
    return 0


def run_by_hand(df: pd.DataFrame) -> int:
    return check_by_hand(df)["invalid_rows"]


_ROWS_ADAPTER = TypeAdapter(list[Reading])


def run_pydantic(df: pd.DataFrame) -> int:
    records = df.astype(object).where(df.notna(), None).to_dict("records")
    try:
        _ROWS_ADAPTER.validate_python(records)
    except ValidationError as error:
        return len({e["loc"][0] for e in error.errors()})
    return 0


TOOLS: dict[str, Callable[[pd.DataFrame], int]] = {
    "shipml": run_shipml,
    "shipml quarantine": run_shipml_quarantine,
    "pandera": run_pandera,
    "by hand": run_by_hand,
    "pydantic per row": run_pydantic,
}


# ---------------------------------------------------------------- measuring, one tool per process


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _frame_for(tool: str, rows: int, variant: str, categories: str) -> pd.DataFrame:
    timed_rows = min(rows, PYDANTIC_SAMPLE) if tool == "pydantic per row" else rows
    return make_frame(rows, variant == "broken", categories).iloc[:timed_rows].copy()


def measure_time(
    tool: str, rows: int, variant: str, categories: str, repeat: int
) -> dict[str, Any]:
    """Best and median of `repeat` runs, extrapolated to `rows` for a sample."""
    df = _frame_for(tool, rows, variant, categories)
    run = TOOLS[tool]
    invalid = run(df)  # warm up: imports, compiled contracts, caches
    seconds, cpu_seconds = [], []
    for _ in range(repeat if tool != "pydantic per row" else 1):
        start, cpu_start = time.perf_counter(), time.process_time()
        run(df)
        seconds.append(time.perf_counter() - start)
        cpu_seconds.append(time.process_time() - cpu_start)
    scale = rows / len(df)
    return {
        "seconds": min(seconds) * scale,
        "median_seconds": statistics.median(seconds) * scale,
        "cpu_seconds": min(cpu_seconds) * scale,
        "timed_rows": len(df),
        "frame_mb": df.memory_usage(deep=True).sum() / 2**20,
        "invalid_rows": invalid,
    }


def measure_memory(tool: str, rows: int, variant: str, categories: str) -> dict[str, Any]:
    """Peak resident set growth during one run (after a small warm-up run)."""
    df = _frame_for(tool, rows, variant, categories)
    run = TOOLS[tool]
    run(df.head(1000))  # imports, compiled contracts, caches
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak resident set size
    resident = _status_kib("VmRSS")
    run(df)
    return {"peak_mb": (_status_kib("VmHWM") - resident) / 1024}


# For the memory run, every allocator returns freed memory to the system at once, so that
# the resident set grows by what a tool holds at its peak: glibc serves blocks of 128 KiB
# and more by mmap (a fixed threshold, no adaptive reuse of freed arrays) and Arrow
# allocates through glibc. Times are taken in another process, with the usual settings.
_MEMORY_ENV = os.environ | {
    "MALLOC_MMAP_THRESHOLD_": str(128 * 1024),
    "ARROW_DEFAULT_MEMORY_POOL": "system",
}


def _in_subprocess(
    tool: str, rows: int, variant: str, categories: str, repeat: int
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for what, env in (("time", os.environ), ("memory", _MEMORY_ENV)):
        command = [sys.executable, __file__, "--worker", tool, "--measure", what]
        command += ["--rows", str(rows), "--variant", variant, "--categories", categories]
        command += ["--repeat", str(repeat)]
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} ({variant}, {what}) failed:\n{done.stderr}")
        figures |= json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _ratios(figures: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Speed-ups of shipml over each peer (above 1: shipml is faster), and its memory ratio."""
    ship = figures["shipml"]
    ratios = {"shipml_peak_over_frame": ship["peak_mb"] / ship["frame_mb"]}
    for tool, key in (
        ("pydantic per row", "pydantic"),
        ("pandera", "pandera"),
        ("by hand", "by_hand"),
    ):
        if tool in figures:
            ratios[f"{key}_over_shipml"] = figures[tool]["seconds"] / ship["seconds"]
            ratios[f"{key}_over_shipml_cpu"] = figures[tool]["cpu_seconds"] / ship["cpu_seconds"]
    return ratios


def _print_table(results: dict[str, dict[str, dict[str, Any]]], rows: int) -> None:
    header = f"{'run':<20} {'tool':<18} {'seconds':>8} {'cpu s':>8} {'rows/s':>12}"
    header += f" {'peak MB':>8} {'invalid':>7}"
    print(header)
    print("-" * len(header))
    for run_name, figures in results.items():
        for tool, f in figures.items():
            sampled = f["timed_rows"] < rows
            note = f"  (timed on {f['timed_rows']:,} rows, extrapolated)" if sampled else ""
            print(
                f"{run_name:<20} {tool:<18} {f['seconds']:>8.3f} {f['cpu_seconds']:>8.3f}"
                f" {rows / f['seconds']:>12,.0f} {f['peak_mb']:>8.1f} {f['invalid_rows']:>7}{note}"
            )
    print("frame size: {:.1f} MB".format(next(iter(results.values()))["shipml"]["frame_mb"]))


def main() -> None:
    """Run every tool on clean and broken data; print the table, then the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--categories", choices=["str", "category", "both"], default="both")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tool names")
    parser.add_argument("--worker", choices=list(TOOLS), help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=["clean", "broken"], help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=["time", "memory"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        where = (args.worker, args.rows, args.variant, args.categories)
        figures = (
            measure_time(*where, args.repeat) if args.measure == "time" else measure_memory(*where)
        )
        print(json.dumps(figures))
        return
    kinds = ["str", "category"] if args.categories == "both" else [args.categories]
    chosen = ["shipml", *(t for t in args.tools.split(",") if t in TOOLS and t != "shipml")]
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for categories in kinds:
        for variant in ("clean", "broken"):
            tools = [t for t in chosen if categories == "str" or t != "pydantic per row"]
            results[f"{variant} ({categories})"] = {
                tool: _in_subprocess(tool, args.rows, variant, categories, args.repeat)
                for tool in tools
            }
    _print_table(results, args.rows)
    summary = {
        "rows": args.rows,
        "repeat": args.repeat,
        "results": results,
        "ratios": {name: _ratios(figures) for name, figures in results.items()},
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
