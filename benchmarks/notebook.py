"""Notebook conversion on notebooks written the way Kaggle notebooks are: this tree's
`shipml notebook convert`, the converter of main's commit 3b850dd, and Soorgeon, side by side.

The twelve notebooks of tests/notebooks/fixtures/kaggle (Titanic twice, House Prices twice,
heart disease twice, Telco churn, Palmer penguins, and scikit-learn's iris, wine, breast cancer
and diabetes datasets; saved execution counts, in-place pandas, splits and fits in sections of
their own, several models, submissions and pickles written, `!pip`/`!conda` lines, plots,
classes defined in the notebook) are copied fresh for each tool. Notebook by notebook, the
tools take turns:

- shipml (this tree, and main's commit 3b850dd checked out with `git archive` into the work
  directory): `python -m shipml.cli notebook convert NB --out DIR` (which runs the new
  project's own tests), then, in the project, `shipml train --promote champion` and `shipml run`
  on its batch window.
- Soorgeon 0.0.x: `soorgeon refactor NB`, then `ploomber build` in its output, in a virtualenv
  of its own (benchmarks/.venv-soorgeon, made on first use with soorgeon, ploomber, pandas,
  scikit-learn and matplotlib).

Recorded per tool and notebook: converts (as written, no edits), its own tests pass (for this
tree: they include the notebook's rows through the batch flow giving the notebook's
predictions), trains, scores a window (Soorgeon: `ploomber build` runs), seconds, and the
first line of the reason when something fails.

Usage: python benchmarks/notebook.py [--work DIR] [--skip-soorgeon] [--only NAME ...]
Re-runnable: every run starts from fresh copies (in a temporary directory unless --work is
given, which is emptied first). The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
KAGGLE = REPOSITORY / "tests" / "notebooks" / "fixtures" / "kaggle"
NOTEBOOKS = sorted(KAGGLE.glob("*/*.ipynb"))
OLD_COMMIT = "3b850dd"
SOORGEON_VENV = HERE / ".venv-soorgeon"
SOORGEON_REQUIREMENTS = ("soorgeon", "ploomber", "pandas", "scikit-learn", "matplotlib")
WINDOW = ("2026-01-05T09:00:00Z", "2026-01-05T09:15:00Z")
TIMEOUT = 900


@dataclass
class Outcome:
    """One tool on one notebook."""

    tool: str
    notebook: str
    converts: bool = False
    tests: bool | None = None
    trains: bool | None = None
    scores: bool | None = None
    convert_s: float | None = None
    run_s: float | None = None
    reason: str | None = None


def main() -> None:
    """Every tool on every notebook, in turns; a table, then the results as JSON."""
    arguments = _arguments()
    work = Path(arguments.work) if arguments.work else Path(tempfile.mkdtemp(prefix="nbconv-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    old_src = _old_checkout(work / "shipml-3b850dd")
    soorgeon = None if arguments.skip_soorgeon else _soorgeon_environment()
    notebooks = [n for n in NOTEBOOKS if not arguments.only or n.stem in arguments.only]
    outcomes: list[Outcome] = []
    for notebook in notebooks:
        outcomes.append(_shipml("shipml (this tree)", notebook, work / "new", REPOSITORY / "src"))
        outcomes.append(_shipml(f"shipml ({OLD_COMMIT})", notebook, work / "old", old_src))
        if soorgeon is not None:
            outcomes.append(_soorgeon(notebook, work / "soorgeon", soorgeon))
    print(_table(outcomes))
    print(_summary(outcomes))
    print(f"work directory: {work}; load average: {os.getloadavg()[0]:.1f}")
    print(json.dumps({"outcomes": [asdict(o) for o in outcomes]}))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", help="Directory for the copies and outputs (emptied first).")
    parser.add_argument("--skip-soorgeon", action="store_true", help="Run shipml only.")
    parser.add_argument("--only", nargs="*", help="Notebook names (file stems) to run.")
    return parser.parse_args()


def _run(
    command: list[str], cwd: Path, extra: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    environment = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "PLOOMBER_STATS_ENABLED": "false",
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        **(extra or {}),
    }
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        completed = subprocess.CompletedProcess(command, 124, "", f"timed out after {TIMEOUT} s")
    return completed, round(time.perf_counter() - started, 1)


def _copy(notebook: Path, directory: Path) -> Path:
    shutil.copytree(notebook.parent, directory)
    return directory / notebook.name


# -- shipml, this tree and main's commit 3b850dd ---------------------------------------------


def _old_checkout(target: Path) -> Path:
    """The source tree of commit 3b850dd (`git archive`), to run its converter."""
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", OLD_COMMIT, "src"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target / "src"


def _shipml(tool: str, notebook: Path, work: Path, source: Path) -> Outcome:
    outcome = Outcome(tool, notebook.stem)
    copy = _copy(notebook, work / notebook.stem)
    project = work / f"{notebook.stem}-project"
    shipml = [sys.executable, "-m", "shipml.cli"]
    path = {"PYTHONPATH": str(source)}
    converted, outcome.convert_s = _run(
        [*shipml, "notebook", "convert", str(copy), "--out", str(project)], work, path
    )
    outcome.converts = project.is_dir() and (project / "pipeline.py").is_file()
    if not outcome.converts:
        outcome.reason = _reason(converted)
        return outcome
    tests = re.search(r"tests: (.+)", converted.stdout)
    outcome.tests = converted.returncode == 0 and bool(tests) and "failed" not in tests.group(1)
    if not outcome.tests:
        outcome.reason = f"its tests: {tests.group(1) if tests else _reason(converted)}"
    trained, train_s = _run([*shipml, "train", "--promote", "champion", "--json"], project, path)
    outcome.trains = trained.returncode == 0
    scored, window_s = _run(
        [*shipml, "run", "--start", WINDOW[0], "--end", WINDOW[1], "--json"], project, path
    )
    outcome.scores = scored.returncode == 0
    outcome.run_s = round(train_s + window_s, 1)
    if not outcome.trains:
        outcome.reason = f"shipml train: {_reason(trained)}"
    elif not outcome.scores:
        outcome.reason = f"shipml run: {_reason(scored)}"
    return outcome


# -- Soorgeon ---------------------------------------------------------------------------------


def _soorgeon_environment() -> Path | None:
    """The virtualenv with Soorgeon and Ploomber, made on first use; None when it cannot be."""
    python = SOORGEON_VENV / "bin" / "python"
    if not python.exists():
        made, _ = _run([sys.executable, "-m", "venv", str(SOORGEON_VENV)], HERE)
        if made.returncode != 0:
            print(f"soorgeon: no virtualenv: {_reason(made)}", file=sys.stderr)
            return None
    installed, _ = _run([str(python), "-m", "pip", "install", "-q", *SOORGEON_REQUIREMENTS], HERE)
    if installed.returncode != 0:
        print(f"soorgeon: pip install failed: {_reason(installed)}", file=sys.stderr)
        return None
    return SOORGEON_VENV / "bin"


def _soorgeon(notebook: Path, work: Path, bin_dir: Path) -> Outcome:
    outcome = Outcome("soorgeon", notebook.stem)
    copy = _copy(notebook, work / notebook.stem)
    refactored, outcome.convert_s = _run(
        [str(bin_dir / "soorgeon"), "refactor", copy.name], copy.parent
    )
    outcome.converts = refactored.returncode == 0 and (copy.parent / "pipeline.yaml").exists()
    if not outcome.converts:
        outcome.reason = _soorgeon_reason(refactored)
        return outcome
    built, outcome.run_s = _run([str(bin_dir / "ploomber"), "build"], copy.parent)
    outcome.scores = built.returncode == 0
    if not outcome.scores:
        outcome.reason = f"ploomber build: {_soorgeon_reason(built)}"
    return outcome


def _soorgeon_reason(completed: subprocess.CompletedProcess[str]) -> str:
    text = completed.stdout + completed.stderr
    for pattern in (r"\* Function .*", r"^\w+Error: .*", r"Error: .*"):
        found = re.search(pattern, text, re.MULTILINE)
        if found:
            return found.group(0)[:200]
    return _reason(completed)


# -- report -----------------------------------------------------------------------------------


def _reason(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (completed.stdout + completed.stderr).splitlines()]
    for line in lines:
        if re.match(r"cell \d+", line) or line.startswith("error:"):
            return line[:200]
    meaningful = [line for line in lines if line]
    return meaningful[-1][:200] if meaningful else f"exit {completed.returncode}"


def _mark(value: bool | None) -> str:
    return "-" if value is None else "yes" if value else "**no**"


def _table(outcomes: list[Outcome]) -> str:
    rows = [
        "| notebook | tool | converts | its tests | trains | scores a window | convert s "
        "| train + window s | reason |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        rows.append(
            f"| {o.notebook} | {o.tool} | {_mark(o.converts)} | {_mark(o.tests)} "
            f"| {_mark(o.trains)} | {_mark(o.scores)} | {o.convert_s or ''} | {o.run_s or ''} "
            f"| {(o.reason or '').replace('|', '/')} |"
        )
    return "\n".join(rows)


def _summary(outcomes: list[Outcome]) -> str:
    lines = []
    for tool in dict.fromkeys(o.tool for o in outcomes):
        mine = [o for o in outcomes if o.tool == tool]
        converts = sum(o.converts for o in mine)
        whole = sum(
            bool(o.converts and o.tests is not False and o.trains is not False and o.scores)
            for o in mine
        )
        lines.append(
            f"{tool}: {converts}/{len(mine)} convert as written; {whole}/{len(mine)} convert, "
            "pass their own tests (if any), train (if it can) and run"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
