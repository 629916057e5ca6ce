"""`shipml notebook convert`: a notebook becomes a shipml project that trains, scores and tests.

Steps: read the source (sections, statements, roles) and refuse what cannot become a pure step;
run the notebook once in a fresh interpreter to capture the tables crossing its sections;
design the project (steps, contracts, data, the notebook's results as test references); write
it; run its tests. A notebook that cannot be converted leaves nothing behind: the reasons
are given by cell, so the notebook can be fixed and converted again.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shipml.errors import Blocker, NotConvertible, OutputUnusable, ScaffoldError
from shipml.notebooks.check.analysis import analyse_notebook
from shipml.notebooks.check.cells import Notebook, read_notebook
from shipml.notebooks.check.findings import FindingKind
from shipml.notebooks.check.plan import plan_notebook
from shipml.notebooks.convert.capture import ExecutionFailed, capture_notebook
from shipml.notebooks.convert.conversion_report import conversion_markdown
from shipml.notebooks.convert.design import design_project
from shipml.notebooks.convert.instrument import capture_request, plain_request
from shipml.notebooks.convert.project_spec import Design
from shipml.notebooks.convert.project_writer import write_project
from shipml.notebooks.defaults import CONVERT_TIMEOUT
from shipml.scaffold import check_new_project

TESTS_TIMEOUT = 600.0


@dataclass(frozen=True)
class Verification:
    """How the generated project's own tests went, right after the conversion."""

    passed: bool
    summary: str
    output: str


@dataclass(frozen=True)
class Conversion:
    """A converted project: where it is, its design, and how its tests went."""

    directory: Path
    design: Design
    verification: Verification | None


def convert_notebook(
    path: Path,
    out: Path,
    *,
    name: str | None = None,
    timeout: float = CONVERT_TIMEOUT,
    verify: bool = True,
) -> Conversion:
    """Convert the notebook at `path` into a project in `out` (absent or empty).

    Raises UnreadableNotebook, OutputUnusable, or NotConvertible (nothing written).
    """
    notebook = read_notebook(path)
    project_name = name or project_name_for(path)
    try:
        check_new_project(out, project_name)
    except ScaffoldError as error:
        raise OutputUnusable(str(error)) from None
    try:
        plan = plan_notebook(notebook)
    except NotConvertible as refusal:
        if all(b.kind == FindingKind.NO_SCORING.value for b in refusal.blockers):
            _runs_through(path, notebook, timeout)  # a failing cell is the first thing to fix
        raise
    try:
        captured = capture_notebook(path.resolve().parent, capture_request(plan), timeout=timeout)
    except ExecutionFailed as failure:
        raise NotConvertible([failure.blocker]) from None
    try:
        design = design_project(plan, captured, project_name)
        _write_in_place(design, out)
    except NotConvertible:
        raise
    except Exception as error:  # a case the converter does not handle: a refusal, not a crash
        fit = plan.fit.statement
        raise NotConvertible(
            [
                Blocker(
                    fit.cell,
                    fit.line,
                    f"shipml cannot convert this notebook ({type(error).__name__}: {error}); "
                    "this is a gap in the converter: please report it with the notebook",
                )
            ]
        ) from error
    verification = run_project_tests(out) if verify else None
    summary = verification.summary if verification else None
    (out / "CONVERSION.md").write_text(conversion_markdown(design, summary), encoding="utf-8")
    return Conversion(out, design, verification)


def _runs_through(path: Path, notebook: Notebook, timeout: float) -> None:
    """NotConvertible naming the cell, when the notebook does not run top to bottom."""
    try:
        capture_notebook(
            path.resolve().parent, plain_request(analyse_notebook(notebook)), timeout=timeout
        )
    except ExecutionFailed as failure:
        raise NotConvertible([failure.blocker]) from None


def project_name_for(path: Path) -> str:
    """A project name from the notebook's file name: `House Prices.ipynb` -> `house_prices`."""
    name = re.sub(r"[^a-z0-9_-]+", "_", path.stem.lower()).strip("_-")
    return name if name[:1].isalpha() else f"notebook_{name}".rstrip("_")


def run_project_tests(directory: Path) -> Verification | None:
    """Run the project's tests with pytest in a subprocess (None when pytest is missing)."""
    if importlib.util.find_spec("pytest") is None:
        return None
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=directory,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            timeout=TESTS_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return Verification(False, f"the tests did not finish within {TESTS_TIMEOUT:g} s", "")
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    summary = re.sub(r" in [\d.]+s", "", lines[-1].strip("= ")) if lines else "no output"
    return Verification(completed.returncode == 0, summary, completed.stdout + completed.stderr)


def _write_in_place(design: Design, out: Path) -> None:
    """Write the project next to `out`, then move it there: all of it or nothing."""
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        write_project(design, scratch / "project")
        if out.is_dir():
            out.rmdir()
        (scratch / "project").rename(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
