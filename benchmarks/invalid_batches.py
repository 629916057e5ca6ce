"""In-process CPU time of scoring micro-batches with invalid requests among valid ones.

The serving benchmark's project and records (`serving.py`): batches of 16 one-record
requests, 0, 1 or 2 of them invalid (out of bounds, not a number, a field missing, in
turns; every one different), scored by the `Scorer` the server uses, no HTTP. CPU time
(`time.thread_time`: the scoring thread's, as the server's scoring thread spends it; other
processes on the machine count for less) per batch, the three kinds of batch in turns.

    python benchmarks/invalid_batches.py [--batches 2000] [--turns 5] [--compare OTHER/src]

With `--compare`, each turn runs this checkout's `src` and then OTHER's, in separate
processes (alternating, same conditions), and prints the median and worst turn of each:
the CPU ms per batch, its ratio to the all-valid batch's in the same process (what the
throughput follows), and the ms added per invalid request.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BATCH = 16
INVALID_COUNTS = (0, 1, 2)
SRC = Path(__file__).resolve().parent.parent / "src"


def main() -> None:
    """Measure here, or in alternating turns against another checkout."""
    options = _options()
    if options.measure:
        print(json.dumps(_measure(options.batches)))
        return
    sources = {"this": str(SRC), **({"before": options.compare} if options.compare else {})}
    turns: dict[str, list[dict[str, float]]] = {name: [] for name in sources}
    for turn in range(options.turns):
        for name, source in sources.items():
            figures = _in_process(source, options.batches)
            turns[name].append(figures)
            shown = ", ".join(f"{k} {v:.3f}" for k, v in figures.items())
            print(f"turn {turn + 1} {name}: {shown} (CPU per batch, median)", flush=True)
    summary = {name: _summary(figures) for name, figures in turns.items()}
    for name, figures in summary.items():
        for key, value in figures.items():
            print(f"{name} {key}: median {value['median']:.3f}, worst {value['worst']:.3f}")
    print(json.dumps({"batches": options.batches, "turns": options.turns, "summary": summary}))


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2000, help="batches per count and turn")
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--compare", help="another checkout's src, measured in the same turns")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def _in_process(source: str, batches: int) -> dict[str, float]:
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([source, str(Path(__file__).parent)]),
    }
    command = [sys.executable, __file__, "--measure", "--batches", str(batches)]
    done = subprocess.run(command, env=environment, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _summary(turns: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        key: {
            "median": round(statistics.median(t[key] for t in turns), 4),
            "worst": round(max(t[key] for t in turns), 4),
        }
        for key in turns[0]
    }


def _measure(batches: int) -> dict[str, float]:
    """Median CPU ms per batch of 16 with 0, 1 and 2 invalid requests (in this process)."""
    from serving import RECORD, _invalid

    scorer, model = _scorer()
    times: dict[int, list[float]] = {invalid: [] for invalid in INVALID_COUNTS}
    numbers = dict.fromkeys(INVALID_COUNTS, 0)  # each count takes the three kinds in turns
    for turn in range(200 + batches):  # the first 200: warm-up, not counted
        for invalid in INVALID_COUNTS:  # in turns, so that the machine's drift hits all alike
            requests = [[dict(RECORD)] for _ in range(BATCH)]
            for position in range(invalid):
                requests[position * 7 + 3] = [_invalid(RECORD, numbers[invalid])]
                numbers[invalid] += 1
            started = time.thread_time()
            result = scorer.score(model, requests)
            if turn >= 200:
                times[invalid].append(time.thread_time() - started)
            assert sum(type(o).__name__ == "Rejected" for o in result.outcomes) == invalid
    figures = {
        f"{invalid}_invalid_ms": round(statistics.median(spent) * 1000, 4)
        for invalid, spent in times.items()
    }
    valid = figures["0_invalid_ms"]
    for invalid in INVALID_COUNTS[1:]:  # what throughput follows: the batch's cost, relative
        figures[f"{invalid}_invalid_x_all_valid"] = round(
            figures[f"{invalid}_invalid_ms"] / valid, 4
        )
        figures[f"ms_per_invalid_request_{invalid}"] = round(
            (figures[f"{invalid}_invalid_ms"] - valid) / invalid, 4
        )
    return figures


def _scorer() -> tuple[Any, Any]:
    """The serving benchmark's pipeline and a model fitted on its data, as the server holds them."""
    import serving
    from shipml.project.project import Project
    from shipml.serving.model import ServedModel
    from shipml.serving.scoring import Scorer
    from shipml.versioning.tracking import LoadedModel, ModelRef, ModelVersionInfo

    project_dir = Path(tempfile.mkdtemp(prefix="invalid-batches-"))
    for name, source in (
        ("contracts.py", serving.CONTRACTS),
        ("steps.py", serving.STEPS),
        ("pipeline.py", serving.PIPELINE),
        ("shipml.toml", serving.SETTINGS),
    ):
        (project_dir / name).write_text(textwrap.dedent(source).lstrip())
    project = Project.load(project_dir)
    data = serving._training_data()
    fitted = project.pipeline.train.func(data)
    ref = ModelRef("bench", "1", "champion")
    info = ModelVersionInfo(ref=ref, aliases=("champion",), created_at=datetime.now(UTC))
    return Scorer(project.pipeline), ServedModel(LoadedModel(fitted, info, None), None)


if __name__ == "__main__":
    main()
