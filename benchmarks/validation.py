"""Validate 1M rows of three model shapes with shipml, Pandera, a hand-written check and Pydantic.

    python benchmarks/validation.py [--rows N] [--rounds R] [--shapes reading,wide,simple]
                                    [--no-memory]

Shapes (each tool checks the same rules; `str` columns, as `read_csv` gives them):
- reading: the README's `Reading`: a machine id with a regex (200 distinct ids), a datetime,
  a nullable float in [-40, 150] (2% nulls), a float >= 0, a Literal of three modes.
- wide: 15 columns: 10 nullable floats in [0, 100] (1% nulls), 3 Literals of 5, 10 and 20
  strings, a datetime, an int in [0, 1000].
- simple: one each of int, float, bool, str (1,000 distinct) and datetime; types only.
Each shape runs on clean data and on data with 0.1% of the rows broken (one rule each);
every tool must find the same number of invalid rows.

The tools: shipml `validate(df, M)` (policy "fail": on broken data it raises
`ContractViolation` with the report); Pandera's `DataFrameModel.validate(df, lazy=True)`;
numpy/pandas masks per rule, written by hand (count and first rows per rule); Pydantic
`TypeAdapter(list[M]).validate_python` on `to_dict("records")` with NaN as None, the
conversion timed too, on the first 100,000 rows, extrapolated linearly.

Time: one process per shape and variant builds the frame once, warms every tool up, then
runs `--rounds` rounds in which every tool runs once, in an order that rotates from round
to round, so that each tool sees the same drift of a shared machine. Reported: the median,
worst (slowest) and best wall time per tool, and per peer the ratio of medians, the worst
round's ratio (the round in which shipml did least well against it) and the ratio of bests
(on a busy machine a run of a few milliseconds is often preempted, which inflates the
median of the fastest tools most; the best is each tool's cost when left to run).

Dates: a 1M-row date column (10 years of days) validated as a `date` field from ISO strings
and as `Annotated[date, DateFormat("%d.%m.%Y")]` from DD.MM.YYYY strings, alternated the
same way (goal: the declared format within 2x of ISO).

Memory (skip with --no-memory): per tool, in a separate process, the growth of the peak
resident set size during one run (VmHWM reset through /proc/self/clear_refs) over the
resident size before it, with glibc's mmap threshold fixed at 128 KiB and Arrow on the
system allocator, so that freed arrays leave the resident set at once.
The last line printed is one JSON object with every figure.
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
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from shipml.contracts import ContractViolation, DateFormat, validate

PYDANTIC_SAMPLE = 100_000
BROKEN_FRACTION = 0.001

# ---------------------------------------------------------------- shape 1: the README's Reading

MODES = ("idle", "run", "maintenance")


class Reading(BaseModel):
    """The README's contract."""

    machine_id: str = Field(pattern=r"^M-\d{3}$")
    ts: datetime
    temperature_c: float | None = Field(ge=-40, le=150)
    vibration_mm_s: float = Field(ge=0)
    mode: Literal["idle", "run", "maintenance"]


class ReadingSchema(pa.DataFrameModel):
    """The same rules for Pandera."""

    machine_id: Series[str] = pa.Field(str_matches=r"^M-\d{3}$")
    ts: Series[pd.Timestamp]
    temperature_c: Series[float] = pa.Field(ge=-40, le=150, nullable=True)
    vibration_mm_s: Series[float] = pa.Field(ge=0)
    mode: Series[str] = pa.Field(isin=MODES)


def reading_by_hand(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The rules as masks: True where a row breaks the rule."""
    ids = df["machine_id"]
    temperature = df["temperature_c"].to_numpy()
    vibration = df["vibration_mm_s"].to_numpy()
    return {
        "machine_id": ~ids.str.fullmatch(r"M-\d{3}").to_numpy(dtype=bool, na_value=False),
        "ts": df["ts"].isna().to_numpy(),
        "temperature_c": (temperature < -40) | (temperature > 150),  # NaN passes: nullable
        "vibration_mm_s": ~(vibration >= 0),  # NaN fails: not nullable
        "mode": ~df["mode"].isin(MODES).to_numpy(),
    }


def reading_frame(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    temperature = rng.normal(60, 8, rows)
    temperature[rng.random(rows) < 0.02] = np.nan
    ids = np.array([f"M-{i:03d}" for i in range(200)])
    return pd.DataFrame(
        {
            "machine_id": pd.Series(ids[rng.integers(0, 200, rows)], dtype="str"),
            "ts": pd.date_range("2024-01-01", periods=rows, freq="s"),
            "temperature_c": temperature,
            "vibration_mm_s": rng.gamma(2.0, 1.5, rows),
            "mode": pd.Series(rng.choice(MODES, rows, p=[0.2, 0.7, 0.1]), dtype="str"),
        }
    )


def reading_break(df: pd.DataFrame, rows: list[np.ndarray]) -> None:
    ids, stamps, hot, vibration = rows
    df.loc[ids, "machine_id"] = "M-12"
    df.loc[stamps, "ts"] = pd.NaT
    df.loc[hot, "temperature_c"] = 151.0
    df.loc[vibration, "vibration_mm_s"] = -0.5


# ---------------------------------------------------------------- shape 2: wide, 15 columns

SITES = tuple(f"site_{i}" for i in range(5))
KINDS = tuple(f"kind_{i}" for i in range(10))
REGIONS = tuple(f"region_{i:02d}" for i in range(20))
FLOATS = tuple(f"x{i}" for i in range(10))


class Wide(BaseModel):
    """Fifteen columns: ten measurements, three categories, a time and a count."""

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


class WideSchema(pa.DataFrameModel):
    """The same rules for Pandera."""

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


def wide_by_hand(df: pd.DataFrame) -> dict[str, np.ndarray]:
    broken: dict[str, np.ndarray] = {}
    for name in FLOATS:
        values = df[name].to_numpy()
        broken[name] = (values < 0) | (values > 100)  # NaN compares False: nulls pass
    for name, levels in (("site", SITES), ("kind", KINDS), ("region", REGIONS)):
        broken[name] = ~df[name].isin(levels).to_numpy()  # nulls are not in the levels
    broken["ts"] = df["ts"].isna().to_numpy()
    counts = df["count"].to_numpy()
    broken["count"] = (counts < 0) | (counts > 1000)
    return broken


def wide_frame(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    columns: dict[str, Any] = {}
    for name in FLOATS:
        values = rng.uniform(0, 100, rows)
        values[rng.random(rows) < 0.01] = np.nan
        columns[name] = values
    for name, levels in (("site", SITES), ("kind", KINDS), ("region", REGIONS)):
        columns[name] = pd.Series(rng.choice(levels, rows), dtype="str")
    columns["ts"] = pd.date_range("2024-01-01", periods=rows, freq="s")
    columns["count"] = rng.integers(0, 1001, rows)
    return pd.DataFrame(columns)


def wide_break(df: pd.DataFrame, rows: list[np.ndarray]) -> None:
    nulls, out_of_range, big_counts, unknown = rows
    df.loc[nulls, "ts"] = pd.NaT
    df.loc[out_of_range, "x3"] = 150.0
    df.loc[big_counts, "count"] = -1
    df.loc[unknown, "region"] = "region_99"


# ---------------------------------------------------------------- shape 3: simple, types only


class Simple(BaseModel):
    """One field of each basic type."""

    id: int
    value: float
    flag: bool
    name: str
    at: datetime


class SimpleSchema(pa.DataFrameModel):
    """The same types for Pandera (not nullable, as Pydantic's fields)."""

    id: Series[int]
    value: Series[float]
    flag: Series[bool]
    name: Series[str]
    at: Series[pd.Timestamp]


def simple_by_hand(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """Types are the dtypes (checked once); what remains is a null check per column."""
    expected = ("i", "f", "b", None, "M")
    for (name, column), kind in zip(df.items(), expected, strict=True):
        if kind is not None and column.dtype.kind != kind:
            raise TypeError(f"{name} has dtype {column.dtype}")
    if not isinstance(df["name"].dtype, pd.StringDtype):
        raise TypeError(f"name has dtype {df['name'].dtype}")
    return {name: column.isna().to_numpy() for name, column in df.items()}


def simple_frame(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    names = np.array([f"name_{i}" for i in range(1000)])
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "value": rng.normal(0, 1, rows),
            "flag": rng.random(rows) < 0.5,
            "name": pd.Series(names[rng.integers(0, 1000, rows)], dtype="str"),
            "at": pd.date_range("2024-01-01", periods=rows, freq="s"),
        }
    )


def simple_break(df: pd.DataFrame, rows: list[np.ndarray]) -> None:
    nulls, missing_names, stamps = rows
    df.loc[nulls, "value"] = np.nan
    df.loc[missing_names, "name"] = None
    df.loc[stamps, "at"] = pd.NaT


# ---------------------------------------------------------------- the shapes and the tools


@dataclass(frozen=True)
class Shape:
    """A model, the same rules in each tool, and the data."""

    model: type[BaseModel]
    schema: type[pa.DataFrameModel]
    by_hand: Callable[[pd.DataFrame], dict[str, np.ndarray]]
    frame: Callable[[int, np.random.Generator], pd.DataFrame]
    breaks: Callable[[pd.DataFrame, list[np.ndarray]], None]
    rules_broken: int = 4  # the broken rows are split into this many groups, one rule each


SHAPES = {
    "reading": Shape(Reading, ReadingSchema, reading_by_hand, reading_frame, reading_break),
    "wide": Shape(Wide, WideSchema, wide_by_hand, wide_frame, wide_break),
    "simple": Shape(Simple, SimpleSchema, simple_by_hand, simple_frame, simple_break, 3),
}
TOOLS = ("shipml", "pandera", "by hand", "pydantic per row")


def make_frame(shape: Shape, rows: int, broken: bool, seed: int = 0) -> pd.DataFrame:
    """The shape's frame; `broken` breaks 0.1% of the rows, one rule each."""
    rng = np.random.default_rng(seed)
    df = shape.frame(rows, rng)
    if broken:
        size = max(shape.rules_broken, int(len(df) * BROKEN_FRACTION))
        chosen = rng.choice(len(df), size, replace=False)
        shape.breaks(df, np.array_split(chosen, shape.rules_broken))
    return df


def runner(shape: Shape, tool: str) -> Callable[[pd.DataFrame], int]:
    """A function that validates a frame with `tool` and returns the invalid row count."""
    if tool == "shipml":

        def run_shipml(df: pd.DataFrame) -> int:
            try:
                return validate(df, shape.model).report.invalid_rows
            except ContractViolation as violation:
                return violation.report.invalid_rows

        return run_shipml
    if tool == "pandera":

        def run_pandera(df: pd.DataFrame) -> int:
            try:
                shape.schema.validate(df, lazy=True)
            except pa.errors.SchemaErrors as errors:
                return int(errors.failure_cases["index"].nunique())
            return 0

        return run_pandera
    if tool == "by hand":

        def run_by_hand(df: pd.DataFrame) -> int:
            broken = shape.by_hand(df)
            invalid = np.logical_or.reduce(list(broken.values()))
            rules = {
                name: {"count": int(mask.sum()), "rows": np.flatnonzero(mask)[:5].tolist()}
                for name, mask in broken.items()
                if mask.any()
            }
            assert len(rules) <= len(broken)
            return int(invalid.sum())

        return run_by_hand
    rows_adapter = TypeAdapter(list[shape.model])  # type: ignore[name-defined]

    def run_pydantic(df: pd.DataFrame) -> int:
        records = df.astype(object).where(df.notna(), None).to_dict("records")
        try:
            rows_adapter.validate_python(records)
        except ValidationError as error:
            return len({e["loc"][0] for e in error.errors()})
        return 0

    return run_pydantic


# ---------------------------------------------------------------- dates: declared vs ISO


class IsoDay(BaseModel):
    """A date field read from ISO 8601 strings."""

    day: date


class DottedDay(BaseModel):
    """The same dates written DD.MM.YYYY, with the format declared."""

    day: Annotated[date, DateFormat("%d.%m.%Y")]


def date_frames(rows: int) -> dict[str, tuple[pd.DataFrame, type[BaseModel]]]:
    rng = np.random.default_rng(0)
    days = pd.Series(pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3653, rows), "D"))
    return {
        "ISO 8601 (date)": (pd.DataFrame({"day": days.dt.strftime("%Y-%m-%d")}), IsoDay),
        "DD.MM.YYYY (DateFormat)": (pd.DataFrame({"day": days.dt.strftime("%d.%m.%Y")}), DottedDay),
    }


# ---------------------------------------------------------------- measuring


def _rounds(
    runs: dict[str, Callable[[], int]], rounds: int, scale: dict[str, float]
) -> dict[str, list[float]]:
    """Each run once per round, the order rotating from round to round; seconds per run."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for turn in range(rounds):
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            start = time.perf_counter()
            runs[name]()
            seconds[name].append((time.perf_counter() - start) * scale.get(name, 1.0))
    return seconds


def _summary(seconds: dict[str, list[float]], reference: str) -> dict[str, Any]:
    """Median, worst and best per run; per other run the ratio of medians, the worst round's
    ratio, and the ratio of bests (each tool's cost when the machine let it run undisturbed)."""
    figures: dict[str, Any] = {
        name: {
            "median_s": statistics.median(times),
            "worst_s": max(times),
            "best_s": min(times),
            "all_s": times,
        }
        for name, times in seconds.items()
    }
    ours = seconds[reference]
    for name, times in seconds.items():
        if name != reference:
            figures[name]["ratio_median"] = statistics.median(times) / statistics.median(ours)
            figures[name]["ratio_best"] = min(times) / min(ours)
            figures[name]["ratio_worst_round"] = min(
                t / o for t, o in zip(times, ours, strict=True)
            )
    return figures


def time_shape(shape_name: str, rows: int, variant: str, rounds: int) -> dict[str, Any]:
    """Every tool on one shape and variant, alternated in turns."""
    shape = SHAPES[shape_name]
    df = make_frame(shape, rows, variant == "broken")
    sample = df.iloc[: min(rows, PYDANTIC_SAMPLE)].copy()
    frames = {tool: sample if tool == "pydantic per row" else df for tool in TOOLS}
    invalid = {tool: runner(shape, tool)(frames[tool]) for tool in TOOLS}  # warm-up
    expected = {t: n for t, n in invalid.items() if t != "pydantic per row"}
    if len(set(expected.values())) != 1:
        raise AssertionError(f"{shape_name} ({variant}): tools disagree: {invalid}")
    runs = {tool: _bound(runner(shape, tool), frames[tool]) for tool in TOOLS}
    scale = {"pydantic per row": rows / len(sample)}
    figures = _summary(_rounds(runs, rounds, scale), "shipml")
    for tool in TOOLS:
        figures[tool]["invalid_rows"] = invalid[tool]
    figures["frame_mb"] = float(df.memory_usage(deep=True).sum() / 2**20)
    return figures


def time_dates(rows: int, rounds: int) -> dict[str, Any]:
    frames = date_frames(rows)
    runs = {
        name: _bound(lambda df, m=model: len(validate(df, m).valid), df)
        for name, (df, model) in frames.items()
    }
    for run in runs.values():
        run()  # warm-up
    return _summary(_rounds(runs, rounds, {}), "ISO 8601 (date)")


def _bound(run: Callable[[pd.DataFrame], int], df: pd.DataFrame) -> Callable[[], int]:
    return lambda: run(df)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure_memory(shape_name: str, tool: str, rows: int, variant: str) -> dict[str, Any]:
    """Peak resident set growth during one run (after a small warm-up run)."""
    shape = SHAPES[shape_name]
    df = make_frame(shape, rows, variant == "broken")
    if tool == "pydantic per row":
        df = df.iloc[:PYDANTIC_SAMPLE].copy()
    run = runner(shape, tool)
    run(df.head(1000))
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak resident set size
    resident = _status_kib("VmRSS")
    run(df)
    return {"peak_mb": (_status_kib("VmHWM") - resident) / 1024, "rows": len(df)}


_MEMORY_ENV = os.environ | {
    "MALLOC_MMAP_THRESHOLD_": str(128 * 1024),
    "ARROW_DEFAULT_MEMORY_POOL": "system",
}


def _worker(arguments: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, *arguments]
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- output


def _print_times(name: str, figures: dict[str, Any], rows: int) -> None:
    print(f"\n{name}")
    header = f"  {'tool':<24} {'median s':>9} {'worst s':>8} {'best s':>8} {'rows/s':>12}"
    print(header + f" {'ratio':>7} {'worst':>7} {'best':>7} {'invalid':>8} {'peak MB':>8}")
    for tool, f in figures.items():
        if not isinstance(f, dict):
            continue
        ratio = f"{f['ratio_median']:.1f}x" if "ratio_median" in f else "-"
        worst = f"{f['ratio_worst_round']:.1f}x" if "ratio_worst_round" in f else "-"
        best = f"{f['ratio_best']:.1f}x" if "ratio_best" in f else "-"
        invalid = f.get("invalid_rows", "")
        peak = f"{f['peak_mb']:.1f}" if "peak_mb" in f else ""
        speed = rows / f["median_s"]
        print(
            f"  {tool:<24} {f['median_s']:>9.3f} {f['worst_s']:>8.3f} {f['best_s']:>8.3f}"
            f" {speed:>12,.0f} {ratio:>7} {worst:>7} {best:>7} {invalid!s:>8} {peak:>8}"
        )


def main() -> None:
    """Run every shape and variant, then the dates; print the tables and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--worker", choices=["time", "memory", "dates"], help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    parser.add_argument("--tool", help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=["clean", "broken"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "time":
        print(json.dumps(time_shape(args.shape, args.rows, args.variant, args.rounds)))
        return
    if args.worker == "memory":
        print(json.dumps(measure_memory(args.shape, args.tool, args.rows, args.variant)))
        return
    if args.worker == "dates":
        print(json.dumps(time_dates(args.rows, args.rounds)))
        return
    common = ["--rows", str(args.rows), "--rounds", str(args.rounds)]
    results: dict[str, Any] = {}
    for shape in args.shapes.split(","):
        for variant in ("clean", "broken"):
            where = ["--shape", shape, "--variant", variant]
            figures = _worker(["--worker", "time", *common, *where])
            if not args.no_memory:
                for tool in TOOLS:
                    memory = _worker(
                        ["--worker", "memory", *common, *where, "--tool", tool], _MEMORY_ENV
                    )
                    figures[tool]["peak_mb"] = memory["peak_mb"]
            results[f"{shape} ({variant})"] = figures
            _print_times(
                f"{shape} ({variant}), frame {figures['frame_mb']:.1f} MB", figures, args.rows
            )
    dates = _worker(["--worker", "dates", *common])
    _print_times("a date column: ISO 8601 vs a declared format", dates, args.rows)
    print(
        json.dumps({"rows": args.rows, "rounds": args.rounds, "results": results, "dates": dates})
    )


if __name__ == "__main__":
    main()
