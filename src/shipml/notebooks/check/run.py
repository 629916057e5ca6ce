"""`--run`: execute a notebook top to bottom in a fresh Jupyter kernel and report the first failure.

Needs the optional packages nbformat, nbclient and ipykernel (`pip install 'shipml[notebook]'`).
The kernel starts in a scratch copy of the notebook's folder (its data included), so relative
paths resolve as in Jupyter and whatever the notebook writes (a submission, a model pickle,
`!conda list > environment.txt`) lands in the copy: the folder itself is left as it was. A shell
command (`!cmd`) that exits with a non-zero status fails the run like a cell that raises.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipml.errors import NotebookRunUnavailable, UnreadableNotebook
from shipml.notebooks.check.cells import Notebook
from shipml.notebooks.check.findings import Finding, FindingKind, FindingMaker, RunSummary
from shipml.notebooks.check.ipython_syntax import to_python
from shipml.notebooks.check.sandbox import sandbox_copy
from shipml.notebooks.defaults import DEFAULT_KERNEL

_REQUIRED = ("nbformat", "nbclient", "jupyter_client")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CELL_LINE = re.compile(r"Cell In\[\d*\], line (\d+)")


# Run first, as a cell of its own: shell escapes go through this, which raises on failure.
_SETUP_CELL = """\
def __shipml_system__(command):
    get_ipython().system(command)
    status = get_ipython().user_ns.get("_exit_code", 0)
    if status:
        raise RuntimeError(f"shell command failed (exit {status}): {command}")
"""


@dataclass
class _Progress:
    """Which cell the kernel is on, filled in by nbclient's hooks (the setup cell not counted)."""

    current: int | None = None
    cells_run: int = 0
    error_line: int | None = None
    started: float = field(default_factory=time.perf_counter)

    def on_execute(self, cell: Any, cell_index: int) -> None:
        """Before a code cell runs."""
        self.current = cell_index if cell_index else None

    def on_executed(self, cell: Any, cell_index: int, execute_reply: Any) -> None:
        """After a code cell ran, successfully or not."""
        if cell_index and execute_reply.get("content", {}).get("status") == "ok":
            self.cells_run += 1

    def on_error(self, cell: Any, cell_index: int, execute_reply: Any) -> None:
        """When a cell raised: keep the line of the cell where it did."""
        frames = execute_reply.get("content", {}).get("traceback", [])
        match = _CELL_LINE.search(_ANSI.sub("", "\n".join(frames)))
        self.error_line = int(match.group(1)) if match else None


def run_notebook(
    notebook: Notebook, *, timeout: float, kernel: str = DEFAULT_KERNEL
) -> tuple[list[Finding], RunSummary]:
    """Run every code cell in a fresh `kernel`; a finding for the first cell that fails."""
    nbformat, nbclient = _import_packages()
    _require_kernel(kernel)
    progress = _Progress()
    document = _with_checked_shell(nbformat, _read_for_kernel(nbformat, notebook))
    with tempfile.TemporaryDirectory(prefix="shipml-run-") as scratch:
        folder = sandbox_copy(notebook.path.resolve().parent, Path(scratch) / "notebook")
        client = nbclient.NotebookClient(
            document,
            timeout=timeout,
            kernel_name=kernel,
            resources={"metadata": {"path": str(folder)}},
            on_cell_execute=progress.on_execute,
            on_cell_executed=progress.on_executed,
            on_cell_error=progress.on_error,
        )
        make = FindingMaker(notebook)
        failure = _execute(client, progress, make, timeout=timeout, kernel=kernel)
    summary = RunSummary(
        kernel=kernel,
        ok=failure is None,
        cells_run=progress.cells_run,
        seconds=round(time.perf_counter() - progress.started, 2),
    )
    return ([] if failure is None else [failure]), summary


def _execute(
    client: Any, progress: _Progress, make: FindingMaker, *, timeout: float, kernel: str
) -> Finding | None:
    """Run the client's notebook; the finding for the cell that stopped it, if one did."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    try:
        client.execute(stderr=subprocess.DEVNULL)  # kernel logs; the cells' output is kept
    except CellTimeoutError:
        return _timeout(make, progress, timeout)
    except CellExecutionError as error:
        return _failure(make, progress, f"{error.ename}: {error.evalue}", error.ename)
    except DeadKernelError:
        return _failure(make, progress, "the kernel died", "DeadKernelError")
    except RuntimeError as error:  # the kernel did not start or answer
        raise NotebookRunUnavailable(f"kernel {kernel!r} failed to start: {error}") from None
    return None


def _with_checked_shell(nbformat: Any, document: Any) -> Any:
    """The notebook with the setup cell first and each `!command` line checked for its status
    (same line numbers: the escape is replaced on its own line)."""
    for cell in document.cells:
        if cell.cell_type != "code":
            continue
        lines = cell.source.split("\n")
        for escape in to_python(cell.source).ipython:
            if escape.kind != "shell" or not escape.text.startswith("!"):
                continue
            original = lines[escape.line - 1]
            indent = original[: len(original) - len(original.lstrip())]
            lines[escape.line - 1] = f"{indent}__shipml_system__({escape.text[1:]!r})"
        cell.source = "\n".join(lines)
    document.cells.insert(0, nbformat.v4.new_code_cell(_SETUP_CELL))
    return document


def _require_kernel(kernel: str) -> None:
    """Refuse an unknown kernel before starting (jupyter_client would log a traceback)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        raise NotebookRunUnavailable(
            f"no Jupyter kernel named {kernel!r}: install ipykernel "
            "(pip install 'shipml[notebook]') or pass --kernel with an installed kernel"
        ) from None


def _import_packages() -> tuple[Any, Any]:
    missing = []
    for name in _REQUIRED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise NotebookRunUnavailable(
            f"--run needs the optional extra 'notebook' ({', '.join(missing)} missing): "
            "pip install 'shipml[notebook]'"
        )
    return importlib.import_module("nbformat"), importlib.import_module("nbclient")


def _read_for_kernel(nbformat: Any, notebook: Notebook) -> Any:
    try:
        return nbformat.read(notebook.path, as_version=4)
    except Exception as error:  # nbformat raises several kinds on notebooks it finds malformed
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise UnreadableNotebook(
            f"{notebook.path}: nbformat cannot read it for --run: {type(error).__name__} "
            f"{first_line}".rstrip()
        ) from None


def _timeout(make: FindingMaker, progress: _Progress, timeout: float) -> Finding:
    cell = progress.current or 1
    message = f"the cell did not finish within {timeout:g} s in a fresh kernel"
    return make(FindingKind.RUN_TIMEOUT, cell, message)


def _failure(make: FindingMaker, progress: _Progress, error: str, name: str) -> Finding:
    message = f"first failure in a fresh kernel run top to bottom: {error}"
    cell = progress.current or 1
    return make(FindingKind.RUN_ERROR, cell, message, line=progress.error_line, names=[name])
