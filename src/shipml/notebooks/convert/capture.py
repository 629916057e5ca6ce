"""Run the notebook once on its own data and bring back what the conversion needs.

The cells run in a fresh Python subprocess (`_capture_worker`), not in a Jupyter kernel: values
come back as pickles straight from the namespace, with no kernel and no optional packages; a
timeout kills the process; shell escapes and magics are not run (they are listed, not part of a
pipeline). The subprocess works in a scratch copy of the notebook's folder, so relative paths
and local modules resolve as in Jupyter, and the files the notebook writes (a submission, a
model pickle) land in the copy, never next to the notebook.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipml.errors import Blocker
from shipml.notebooks.check.sandbox import sandbox_copy

_WORKER = Path(__file__).with_name("_capture_worker.py")
# Run the worker by path, so that the notebook's directory (not shipml's) is first on sys.path
# and shipml itself is not imported into the notebook's interpreter.
_BOOTSTRAP = (
    "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


@dataclass
class Captured:
    """What the notebook's run produced (frames as objects; notebook objects as pickles)."""

    values: dict[str, Any] = field(default_factory=dict)
    """Saved values by `when:cell:statement:name` (`when` is `before` or `after`)."""
    unsaved: dict[str, str] = field(default_factory=dict)
    raw: Any = None
    label: str | None = None
    """The label column of a dataset loaded as X and y (named by its Series, else `target`)."""
    frame_name: str | None = None
    """The name of the frame the notebook's data is in (None for a dataset's X and y)."""
    x_name: str | None = None
    y_name: str | None = None
    x_array: bool = False
    y_array: bool = False
    splits: dict[str, Any] = field(default_factory=dict)
    learned: bytes | None = None
    model: bytes | None = None
    model_info: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] | None = None
    fit_labels: Any = None
    refit_reproduces: bool | None = None
    fit_x_frame: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def value(self, when: str, cell: int, statement: int, name: str) -> Any:
        """A saved value (None when it was not saved)."""
        return self.values.get(f"{when}:{cell}:{statement}:{name}")


class ExecutionFailed(Exception):
    """The notebook did not run through; `blocker` names the cell (convert turns it into
    NotConvertible, so it never reaches the user)."""

    def __init__(self, blocker: Blocker) -> None:
        super().__init__(str(blocker))
        self.blocker = blocker


def capture_notebook(directory: Path, plan: dict[str, Any], *, timeout: float) -> Captured:
    """Run `plan` (see `_capture_worker`) in a copy of `directory`; raise ExecutionFailed."""
    with tempfile.TemporaryDirectory(prefix="shipml-capture-") as scratch:
        work = Path(scratch)
        folder = sandbox_copy(directory, work / "notebook")
        plan_file = work / "plan.json"
        plan_file.write_text(json.dumps(plan), encoding="utf-8")
        started = time.perf_counter()
        try:
            completed = subprocess.run(
                [sys.executable, "-c", _BOOTSTRAP, str(_WORKER), str(plan_file), str(work)],
                cwd=folder,
                env=_environment(),
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise ExecutionFailed(
                Blocker(
                    _current_cell(work, plan),
                    None,
                    f"the notebook did not finish within {timeout:g} s when run top to bottom",
                    "run_timeout",
                )
            ) from None
        result = _read_result(work, plan, completed)
        seconds = time.perf_counter() - started
    return _captured(result, seconds)


def _environment() -> dict[str, str]:
    """The caller's environment, with plots drawn off screen and no progress bars."""
    return {**os.environ, "MPLBACKEND": "Agg", "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1"}


def _current_cell(work: Path, plan: dict[str, Any]) -> int:
    try:
        return int((work / "progress").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return plan["cells"][0]["number"] if plan["cells"] else 1


def _read_result(
    work: Path, plan: dict[str, Any], completed: subprocess.CompletedProcess[str]
) -> dict[str, Any]:
    output = work / "capture.pkl"
    if not output.is_file():
        last = (completed.stderr.strip().splitlines() or ["no message"])[-1]
        raise ExecutionFailed(
            Blocker(
                _current_cell(work, plan),
                None,
                f"the interpreter running the notebook stopped (exit {completed.returncode}): "
                f"{last}",
                "run_error",
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
                "run_error",
            )
        )
    return result


def _captured(result: dict[str, Any], seconds: float) -> Captured:
    captured = Captured(
        label=result.get("label"),
        frame_name=result.get("frame_name"),
        x_name=result.get("x_name"),
        y_name=result.get("y_name"),
        x_array=bool(result.get("x_array")),
        y_array=bool(result.get("y_array")),
        splits=result["splits"],
        learned=_bytes(result.get("learned")),
        model=_bytes(result.get("model")),
        model_info=result.get("model_info", {}),
        reference=result.get("reference"),
        fit_labels=result.get("fit_labels"),
        refit_reproduces=result.get("refit"),
        fit_x_frame=bool(result.get("fit_x_frame")),
        calls=result.get("calls", []),
        seconds=round(seconds, 2),
        unsaved=dict(result["unsaved"]),
    )
    for key, payload in result["values"].items():
        try:
            captured.values[key] = pickle.loads(payload)
        except Exception as error:  # an object of a class defined in the notebook
            captured.unsaved[key] = f"cannot be loaded outside the notebook: {type(error).__name__}"
    raw = result.get("raw")
    if isinstance(raw, bytes):
        captured.raw = pickle.loads(raw)
    return captured


def _bytes(value: Any) -> bytes | None:
    return value if isinstance(value, bytes) else None
