"""Notebook conversion: `shipml notebook convert` vs Soorgeon (`soorgeon refactor`), side by side.

Both tools get the same two clean notebooks (tests/notebooks/fixtures/clean_classification and
clean_regression: sections Load data / Preprocess / Features / Train / Predict, a CSV beside
each), each copied into a fresh directory. For each tool and notebook the script records
whether the conversion succeeds, whether its output pipeline runs, how long that takes, and
what the output contains (typed contracts, tests, data validation, ML roles).

- shipml: `shipml notebook convert NB --out DIR` (which runs the new project's own tests),
  then `shipml train --promote champion` and `shipml run --start ... --end ...` (one batch
  window) in the new project.
- Soorgeon 0.0.x: `soorgeon refactor NB`, then `ploomber build` in its output. Three variants:
  the notebook as it is; the notebook with the one edit Soorgeon's error asks for (the list
  constant its `featurize` reads moved into the function); and `--single-task`, the fallback
  Soorgeon suggests (the whole notebook as one task).

Soorgeon and Ploomber run in their own virtualenv (they pin packages of their own), made on
first use together with the packages the notebooks import:

    python3.11 -m venv benchmarks/.venv-soorgeon
    benchmarks/.venv-soorgeon/bin/pip install soorgeon ploomber pandas scikit-learn

Usage: python benchmarks/notebook.py [--work DIR] [--skip-soorgeon] [--skip-training]
Re-runnable: every run starts from fresh copies (in a temporary directory unless --work is
given, which is emptied first). The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "notebooks" / "fixtures"
NOTEBOOKS = {
    "churn (classification)": FIXTURES / "clean_classification" / "churn.ipynb",
    "house_prices (regression)": FIXTURES / "clean_regression" / "house_prices.ipynb",
}
SOORGEON_VENV = HERE / ".venv-soorgeon"
SOORGEON_REQUIREMENTS = ("soorgeon", "ploomber", "pandas", "scikit-learn")
WINDOW = ("2026-01-05T09:00:00Z", "2026-01-05T09:15:00Z")
TIMEOUT = 900
_CONSTANT = re.compile(r"^(?P<name>[A-Z][A-Z0-9_]*) = (?P<value>\[.*\])\n+", re.MULTILINE)


@dataclass
class Outcome:
    """One tool (and variant) on one notebook."""

    tool: str
    notebook: str
    converted: bool = False
    runs: bool = False
    convert_s: float | None = None
    run_s: float | None = None
    error: str | None = None
    tasks: int = 0
    typed_contracts: int = 0
    tests: int = 0
    validation: str = "none"
    roles: str = "none"
    notes: list[str] = field(default_factory=list)


def main() -> None:
    """Run every tool on every notebook; print a table and the results as JSON."""
    arguments = _arguments()
    work = Path(arguments.work) if arguments.work else Path(tempfile.mkdtemp(prefix="nbconv-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    outcomes: list[Outcome] = []
    soorgeon = None if arguments.skip_soorgeon else _soorgeon_environment()
    for label, notebook in NOTEBOOKS.items():
        outcomes.append(
            _shipml(label, notebook, work / "shipml", train=not arguments.skip_training)
        )
        if soorgeon is not None and soorgeon.error is None:
            for variant in ("as is", "constant moved into the function", "--single-task"):
                outcomes.append(_soorgeon(label, notebook, work / "soorgeon", variant))
    if soorgeon is not None and soorgeon.error is not None:
        outcomes.append(soorgeon)
    print(_table(outcomes))
    print(f"work directory: {work}; load average: {os.getloadavg()[0]:.1f}")
    print(json.dumps({"outcomes": [asdict(o) for o in outcomes]}))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", help="Directory for the copies and outputs (emptied first).")
    parser.add_argument("--skip-soorgeon", action="store_true", help="Run shipml only.")
    parser.add_argument(
        "--skip-training", action="store_true", help="Convert only: no train, no batch window."
    )
    return parser.parse_args()


def _run(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    environment = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1",
                   "PLOOMBER_STATS_ENABLED": "false", "OMP_NUM_THREADS": "1"}  # fmt: skip
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=TIMEOUT
    )
    return completed, round(time.perf_counter() - started, 1)


def _copy(notebook: Path, directory: Path) -> Path:
    shutil.copytree(notebook.parent, directory)
    return directory / notebook.name


# -- shipml ---------------------------------------------------------------------------------


def _shipml(label: str, notebook: Path, work: Path, *, train: bool) -> Outcome:
    outcome = Outcome("shipml notebook convert", label)
    copy = _copy(notebook, work / notebook.stem)
    project = work / f"{notebook.stem}-project"
    shipml = [sys.executable, "-m", "shipml.cli"]
    converted, outcome.convert_s = _run([*shipml, "notebook", "convert", str(copy), "--out",
                                         str(project)], work)  # fmt: skip
    outcome.converted = converted.returncode == 0
    if not outcome.converted:
        outcome.error = _last_line(converted)
        return outcome
    tests = re.search(r"tests: (.+)", converted.stdout)
    outcome.notes.append(f"its own tests when converted: {tests.group(1) if tests else '?'}")
    _describe_shipml(project, outcome)
    if train:
        trained, train_s = _run([*shipml, "train", "--promote", "champion", "--json"], project)
        scored, window_s = _run(
            [*shipml, "run", "--start", WINDOW[0], "--end", WINDOW[1], "--json"], project
        )
        outcome.runs = trained.returncode == 0 and scored.returncode == 0
        outcome.run_s = round(train_s + window_s, 1)
        outcome.error = (
            None if outcome.runs else _last_line(trained if trained.returncode else scored)
        )
    return outcome


def _describe_shipml(project: Path, outcome: Outcome) -> None:
    contracts = ast.parse((project / "contracts.py").read_text())
    outcome.typed_contracts = sum(isinstance(n, ast.ClassDef) for n in contracts.body)
    outcome.tests = sum(_test_functions(path) for path in (project / "tests").glob("test_*.py"))
    steps = (project / "steps.py").read_text()
    outcome.tasks = steps.count("@step")
    outcome.validation = f"every step boundary ({steps.count('Table[')} Table[...] annotations)"
    pipeline = (project / "pipeline.py").read_text()
    roles = [r for r in ("transforms", "train", "predict") if f"{r}=" in pipeline]
    outcome.roles = ", ".join(roles) + "; data file + batch window source"


# -- Soorgeon -------------------------------------------------------------------------------


def _soorgeon_environment() -> Outcome | None:
    """The virtualenv with Soorgeon and Ploomber, made on first use."""
    python = SOORGEON_VENV / "bin" / "python"
    outcome = Outcome("soorgeon (install)", "-")
    if not python.exists():
        made, _ = _run([sys.executable, "-m", "venv", str(SOORGEON_VENV)], HERE)
        if made.returncode != 0:
            outcome.error = f"virtualenv: {_last_line(made)}"
            return outcome
    installed, seconds = _run(
        [str(python), "-m", "pip", "install", "-q", *SOORGEON_REQUIREMENTS], HERE
    )
    if installed.returncode != 0:
        outcome.error = f"pip install failed: {_last_line(installed)}"
        return outcome
    outcome.notes.append(f"pip install checked in {seconds} s")
    return outcome


def _soorgeon(label: str, notebook: Path, work: Path, variant: str) -> Outcome:
    outcome = Outcome(f"soorgeon refactor ({variant})", label)
    slug = re.sub(r"\W+", "-", variant).strip("-")
    copy = _copy(notebook, work / f"{notebook.stem}-{slug}")
    if variant == "constant moved into the function":
        outcome.notes.append(_move_constants_into_functions(copy))
    bin_dir = SOORGEON_VENV / "bin"
    command = [str(bin_dir / "soorgeon"), "refactor", copy.name]
    if variant == "--single-task":
        command.append("--single-task")
    refactored, outcome.convert_s = _run(command, copy.parent)
    outcome.converted = refactored.returncode == 0 and (copy.parent / "pipeline.yaml").exists()
    if not outcome.converted:
        outcome.error = _soorgeon_error(refactored)
        return outcome
    built, outcome.run_s = _run([str(bin_dir / "ploomber"), "build"], copy.parent)
    outcome.runs = built.returncode == 0
    if not outcome.runs:
        outcome.error = _last_line(built)
    _describe_soorgeon(copy.parent, outcome)
    return outcome


def _move_constants_into_functions(notebook: Path) -> str:
    """Move each list constant a function reads into that function's body (the edit Soorgeon's
    "functions are using global variables" error asks for)."""
    document = json.loads(notebook.read_text())
    moved = []
    for cell in document["cells"]:
        source = "".join(cell["source"])
        match = _CONSTANT.search(source)
        if cell["cell_type"] != "code" or match is None or "def " not in source:
            continue
        source = source.replace(match.group(0), "", 1)
        source = re.sub(
            r'(def .*:\n    """.*"""\n)', rf"\1    {match.group(0).strip()}\n", source, count=1
        )
        cell["source"] = source
        moved.append(match.group("name"))
    notebook.write_text(json.dumps(document, indent=1))
    return f"edited: {', '.join(moved)} moved into the function that reads it"


def _describe_soorgeon(directory: Path, outcome: Outcome) -> None:
    pipeline = (directory / "pipeline.yaml").read_text()
    outcome.tasks = pipeline.count("- source:")
    products = re.findall(r"output/\S+\.pkl", pipeline)
    outcome.notes.append(f"{len(products)} pickled products between tasks")
    sources = (
        [p.read_text() for p in (directory / "tasks").glob("*")]
        if (directory / "tasks").is_dir()
        else []
    )
    typed = sum(len(re.findall(r"BaseModel|pandera|DataFrameModel|Schema", s)) for s in sources)
    outcome.typed_contracts = typed
    outcome.tests = sum(_test_functions(p) for p in directory.rglob("test_*.py"))
    outcome.validation = "none" if typed == 0 else "present"
    outcome.roles = (
        "none (the whole notebook as one task)"
        if outcome.tasks == 1
        else "none (one task per H2 section; no train/predict roles)"
    )


def _soorgeon_error(completed: subprocess.CompletedProcess[str]) -> str:
    text = completed.stdout + completed.stderr
    found = re.search(r"\* Function .*", text)
    return found.group(0) if found else _last_line(completed)


# -- helpers --------------------------------------------------------------------------------


def _test_functions(path: Path) -> int:
    try:
        tree = ast.parse(path.read_text())
    except SyntaxError:
        return 0
    return sum(isinstance(n, ast.FunctionDef) and n.name.startswith("test") for n in tree.body)


def _last_line(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (completed.stderr + completed.stdout).splitlines() if line.strip()]
    return lines[-1][:200] if lines else f"exit {completed.returncode}"


def _table(outcomes: list[Outcome]) -> str:
    rows = [
        "| tool | notebook | converts | output runs | convert s | run s | steps/tasks "
        "| typed contracts | tests | data validation | ML roles | notes |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        notes = "; ".join([*o.notes, *([f"error: {o.error}"] if o.error else [])])
        rows.append(
            f"| {o.tool} | {o.notebook} | {'yes' if o.converted else 'no'} "
            f"| {'yes' if o.runs else 'no'} | {o.convert_s or ''} | {o.run_s or ''} "
            f"| {o.tasks} | {o.typed_contracts} | {o.tests} | {o.validation} | {o.roles} "
            f"| {notes} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
