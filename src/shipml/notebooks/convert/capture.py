"""Run the notebook once on its own data and bring back the frames that cross its sections.

The cells run in a fresh Python subprocess (`_capture_worker`), not in a Jupyter kernel:
the values come back as pickles straight from the namespace after each section, with no
kernel, no messaging and no optional packages; a timeout kills the process; and what a kernel
adds (magics, shell escapes) is what the converter refuses anyway. The subprocess starts in
the notebook's directory, so relative paths and local modules resolve as in Jupyter.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipml.notebooks.errors import Blocker

_WORKER = Path(__file__).with_name("_capture_worker.py")
# Run the worker by path, so that the notebook's directory (not shipml's) is first on sys.path
# and shipml itself is not imported into the notebook's interpreter.
_BOOTSTRAP = (
    "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


@dataclass(frozen=True)
class CaptureRequest:
    """What to run and what to bring back."""

    cells: Sequence[tuple[int, str]]
    """(cell number, Python code) of every code cell, top to bottom."""
    snapshots: Mapping[int, Sequence[str]]
    """After cell N, save these names (those a section binds, after its last cell)."""
    model: str | None = None
    scoring_cells: Sequence[int] = ()
    """Cells in which the model's `predict`/`predict_proba` calls are recorded."""
    refit: Mapping[str, Any] | None = None
    """A check that a fresh copy of the model refitted on the same rows scores the same:
    `after_cell`, `model`, `x`, `y`, `x_eval`, `method`."""


@dataclass(frozen=True)
class ScoringCall:
    """One call of the model's scoring method while the notebook ran."""

    method: str
    rows: Any
    output: Any


@dataclass
class Captured:
    """What the notebook's run produced."""

    snapshots: dict[int, dict[str, Any]] = field(default_factory=dict)
    unsaved: dict[int, dict[str, str]] = field(default_factory=dict)
    """Values that could not be brought back, with the reason."""
    displays: dict[int, Any] = field(default_factory=dict)
    """The value each cell's last expression shows (frames and arrays only)."""
    calls: dict[int, list[ScoringCall]] = field(default_factory=dict)
    refit_reproduces: bool | None = None
    seconds: float = 0.0

    def value(self, after_cell: int, name: str) -> Any:
        """The value of `name` saved after cell `after_cell` (KeyError when not saved)."""
        return self.snapshots[after_cell][name]


class ExecutionFailed(Exception):
    """The notebook did not run through; `blocker` names the cell."""

    def __init__(self, blocker: Blocker) -> None:
        super().__init__(str(blocker))
        self.blocker = blocker


def capture_notebook(directory: Path, request: CaptureRequest, *, timeout: float) -> Captured:
    """Run the cells in a fresh interpreter started in `directory`; raise ExecutionFailed."""
    with tempfile.TemporaryDirectory(prefix="shipml-capture-") as scratch:
        work = Path(scratch)
        plan = work / "plan.json"
        plan.write_text(json.dumps(_plan(request)), encoding="utf-8")
        started = time.perf_counter()
        try:
            completed = subprocess.run(
                [sys.executable, "-c", _BOOTSTRAP, str(_WORKER), str(plan), str(work)],
                cwd=directory,
                env=_environment(),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise ExecutionFailed(
                Blocker(
                    _current_cell(work, request),
                    None,
                    f"the notebook did not finish within {timeout:g} s when run top to bottom",
                )
            ) from None
        result = _read_result(work, request, completed)
        seconds = time.perf_counter() - started
    return _captured(result, seconds)


def _plan(request: CaptureRequest) -> dict[str, Any]:
    return {
        "cells": [{"number": number, "code": code} for number, code in request.cells],
        "snapshots": {str(cell): list(names) for cell, names in request.snapshots.items()},
        "record": (
            {"model": request.model, "cells": list(request.scoring_cells)}
            if request.model
            else None
        ),
        "refit": dict(request.refit) if request.refit else None,
    }


def _environment() -> dict[str, str]:
    """The caller's environment, with plots drawn off screen and no progress bars."""
    return {**os.environ, "MPLBACKEND": "Agg", "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1"}


def _current_cell(work: Path, request: CaptureRequest) -> int:
    try:
        return int((work / "progress").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return request.cells[0][0] if request.cells else 1


def _read_result(
    work: Path, request: CaptureRequest, completed: subprocess.CompletedProcess[str]
) -> dict[str, Any]:
    output = work / "capture.pkl"
    if not output.is_file():
        last = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        raise ExecutionFailed(
            Blocker(
                _current_cell(work, request),
                None,
                f"the interpreter running the notebook stopped (exit {completed.returncode}): "
                f"{last}",
            )
        )
    result: dict[str, Any] = pickle.loads(output.read_bytes())
    error = result["error"]
    if error is not None:
        raise ExecutionFailed(
            Blocker(
                error["cell"],
                error["line"],
                f"fails when the notebook runs top to bottom in a fresh interpreter: "
                f"{error['message']}",
            )
        )
    return result


def _captured(result: dict[str, Any], seconds: float) -> Captured:
    captured = Captured(refit_reproduces=result["refit"], seconds=round(seconds, 2))
    for cell, values in result["snapshots"].items():
        loaded, unsaved = _loaded(values)
        captured.snapshots[cell] = loaded
        captured.unsaved[cell] = {**result["unsaved"].get(cell, {}), **unsaved}
    for cell, payload in result["displays"].items():
        loaded, _ = _loaded({"value": payload})
        if "value" in loaded:
            captured.displays[cell] = loaded["value"]
    for cell, payloads in result["calls"].items():
        loaded, _ = _loaded(dict(enumerate(payloads)))
        captured.calls[cell] = [ScoringCall(*loaded[i]) for i in sorted(loaded)]
    return captured


def _loaded(payloads: Mapping[Any, bytes]) -> tuple[dict[Any, Any], dict[Any, str]]:
    """Unpickle each value; one that needs the notebook's own classes stays behind, noted."""
    loaded, failed = {}, {}
    for key, payload in payloads.items():
        try:
            loaded[key] = pickle.loads(payload)
        except Exception as error:  # a class defined in the notebook: only the worker had it
            failed[key] = f"cannot be loaded outside the notebook: {type(error).__name__}"
    return loaded, failed
