"""How long a `shipml` command takes to start, beside `python -c "import pandas"`.

    python benchmarks/cli.py [--runs 10]

Each round runs, in turn, `import pandas`, `shipml --help`, `shipml --version` and
`shipml validate` on a 100-row CSV, each in a fresh process, so that all four see the
machine in the same state; the median and the worst of the rounds are reported, with the
ratio of each command to importing pandas. Goals (issue 12): `--help` and `--version`
within 1.5x of importing pandas, `validate` on 100 rows within 3x. The last line is a JSON
object with every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

CONTRACT = """
from datetime import datetime
from pydantic import BaseModel, Field

class Reading(BaseModel):
    machine_id: str
    ts: datetime
    temperature_c: float | None = Field(ge=-40, le=150)
"""


def _data(directory: Path) -> tuple[Path, Path]:
    """A 100-row CSV and the contract it satisfies."""
    frame = pd.DataFrame(
        {
            "machine_id": [f"M-{i % 7:03d}" for i in range(100)],
            "ts": pd.date_range("2026-01-01", periods=100, freq="min").strftime(
                "%Y-%m-%dT%H:%M:%S"
            ),
            "temperature_c": [20.0 + i / 10 for i in range(100)],
        }
    )
    data = directory / "readings.csv"
    frame.to_csv(data, index=False)
    contract = directory / "contract.py"
    contract.write_text(CONTRACT)
    return data, contract


def _seconds(command: list[str]) -> float:
    """Wall time of one fresh process running `command` (which must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    """Measure the commands in turns and print a table, then the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    shipml = str(Path(sys.executable).parent / "shipml")
    with tempfile.TemporaryDirectory() as folder:
        data, contract = _data(Path(folder))
        commands = {
            "import pandas": [sys.executable, "-c", "import pandas"],
            "shipml --help": [shipml, "--help"],
            "shipml --version": [shipml, "--version"],
            "shipml validate (100 rows)": [
                shipml,
                "validate",
                str(data),
                "--contract",
                f"{contract}:Reading",
            ],
        }
        for command in commands.values():  # warm the file cache; not measured
            _seconds(command)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                times[name].append(_seconds(command))
    baseline = statistics.median(times["import pandas"])
    figures = {}
    print(f"{'command':30} {'median s':>9} {'worst s':>9} {'x pandas':>9}")
    for name, values in times.items():
        median, worst = statistics.median(values), max(values)
        figures[name] = {"median_s": median, "worst_s": worst, "ratio": median / baseline}
        print(f"{name:30} {median:9.3f} {worst:9.3f} {median / baseline:9.2f}")
    print(json.dumps({"runs": runs, "figures": figures}))


if __name__ == "__main__":
    main()
