"""Run a notebook's cells in a fresh interpreter and save the values the converter asks for.

Started by `shipml.notebooks.convert.capture` in the notebook's directory, by path and with that
directory first on sys.path, so relative paths and local modules resolve as in Jupyter.
PLAN (JSON) lists the cells' code and what to save; OUT is a directory that receives
`progress` (the cell running now) and `capture.pkl` (everything saved, values pickled).
"""

from __future__ import annotations

import ast
import builtins
import json
import pickle
import sys
import traceback
import types
from pathlib import Path
from typing import Any

_DISPLAYED_TYPES = ("DataFrame", "Series", "ndarray")
_SCORING_METHODS = ("predict", "predict_proba")


class _CellError(Exception):
    """A cell raised; `line` is the line of the cell where it did."""

    def __init__(self, cell: int, line: int | None, message: str) -> None:
        super().__init__(message)
        self.cell = cell
        self.line = line
        self.message = message


def main(arguments: list[str]) -> int:
    """Run the plan in `arguments[0]`, writing into the directory `arguments[1]`."""
    plan = json.loads(Path(arguments[0]).read_text(encoding="utf-8"))
    out = Path(arguments[1])
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    result: dict[str, Any] = {
        "cells_run": [],
        "error": None,
        "snapshots": {},
        "unsaved": {},
        "displays": {},
        "calls": {},
        "refit": None,
    }
    try:
        for cell in plan["cells"]:
            number = cell["number"]
            (out / "progress").write_text(str(number), encoding="utf-8")
            _run_recorded(cell, namespace, plan.get("record"), result)
            result["cells_run"].append(number)
            _after_cell(number, namespace, plan, result)
    except _CellError as error:
        result["error"] = {"cell": error.cell, "line": error.line, "message": error.message}
    (out / "capture.pkl").write_bytes(pickle.dumps(result))
    return 0


def _run_recorded(
    cell: dict[str, Any], namespace: dict[str, Any], record: Any, result: dict[str, Any]
) -> None:
    """Run a cell; in the cells named by `record`, note the model's scoring calls."""
    number = cell["number"]
    recorder = (
        _Recorder(namespace, record["model"]) if record and number in record["cells"] else None
    )
    try:
        displayed = _run_cell(number, cell["code"], namespace, recorder)
    finally:
        if recorder is not None:
            recorder.unwrap()
    if recorder is not None and recorder.calls:
        result["calls"][number] = recorder.calls
    if type(displayed).__name__ in _DISPLAYED_TYPES:
        saved = _pickled(displayed)
        if isinstance(saved, bytes):
            result["displays"][number] = saved


def _run_cell(
    number: int, code: str, namespace: dict[str, Any], recorder: _Recorder | None = None
) -> Any:
    """Execute the cell one statement at a time; the value of its last line when that is an
    expression (as IPython shows it)."""
    filename = f"<cell {number}>"
    tree = ast.parse(code, filename)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = tree.body[:-1] if last is not None else tree.body
    try:
        for statement in body:
            if recorder is not None:
                recorder.wrap()
            module = ast.Module(body=[statement], type_ignores=[])
            exec(compile(module, filename, "exec"), namespace)
        if last is None:
            return None
        if recorder is not None:
            recorder.wrap()
        return eval(compile(ast.Expression(body=last.value), filename, "eval"), namespace)
    except Exception as error:
        raise _CellError(number, _line_in(error, filename), _describe(error)) from None


class _Recorder:
    """Shadows the model's scoring methods with recorders of their first calls.

    The model is looked up before each statement, so a model fitted in the scoring cell
    itself is recorded too.
    """

    def __init__(self, namespace: dict[str, Any], name: str) -> None:
        self.namespace = namespace
        self.name = name
        self.calls: list[bytes] = []
        self.model: Any = None

    def wrap(self) -> None:
        """Wrap the object the model's name holds now, if it is not wrapped already."""
        model = self.namespace.get(self.name)
        if model is self.model or model is None or not hasattr(model, "__dict__"):
            return
        self.unwrap()
        self.model = model
        for method in _SCORING_METHODS:
            original = getattr(model, method, None)
            if original is not None:
                vars(model)[method] = self._recording(method, original)

    def unwrap(self) -> None:
        """Give the model its own methods back (a wrapped model cannot be pickled)."""
        if self.model is not None:
            for method in _SCORING_METHODS:
                vars(self.model).pop(method, None)
        self.model = None

    def _recording(self, method: str, original: Any) -> Any:
        def recorder(*args: Any, **kwargs: Any) -> Any:
            output = original(*args, **kwargs)
            if args and len(self.calls) < 2:
                saved = _pickled((method, args[0], output))
                if isinstance(saved, bytes):
                    self.calls.append(saved)
            return output

        return recorder


def _after_cell(number: int, namespace: dict[str, Any], plan: Any, result: dict[str, Any]) -> None:
    names = plan["snapshots"].get(str(number))
    if names is not None:
        saved, unsaved = {}, {}
        for name in names:
            if name not in namespace or _is_code(namespace[name]):
                continue
            value = _pickled(namespace[name])
            if isinstance(value, bytes):
                saved[name] = value
            else:
                unsaved[name] = value
        result["snapshots"][number] = saved
        result["unsaved"][number] = unsaved
    refit = plan.get("refit")
    if refit and refit["after_cell"] == number:
        result["refit"] = _refit_reproduces(namespace, refit)


def _refit_reproduces(namespace: dict[str, Any], refit: dict[str, Any]) -> bool | None:
    """Whether fitting a fresh copy of the model on the same rows gives the same scores."""
    try:
        import numpy as np
        from sklearn.base import clone

        model = namespace[refit["model"]]
        fresh = clone(model).fit(namespace[refit["x"]], namespace[refit["y"]])
        rows = namespace[refit["x_eval"]]
        method = refit["method"]
        expected = np.asarray(getattr(model, method)(rows), dtype=float)
        again = np.asarray(getattr(fresh, method)(rows), dtype=float)
        return bool(np.allclose(expected, again, rtol=1e-9, atol=1e-12))
    except Exception:  # not a scikit-learn estimator, or it cannot be cloned: unknown
        return None


def _is_code(value: Any) -> bool:
    return isinstance(value, types.ModuleType | types.FunctionType | type)


def _pickled(value: Any) -> bytes | str:
    """The pickled value, or why it cannot be pickled."""
    try:
        return pickle.dumps(value)
    except Exception as error:
        return f"{type(value).__name__} cannot be saved: {_describe(error)}"


def _line_in(error: BaseException, filename: str) -> int | None:
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if isinstance(error, SyntaxError) and error.filename == filename:
        return error.lineno
    return lines[-1] if lines else None


def _describe(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0]}" if message else type(error).__name__


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
