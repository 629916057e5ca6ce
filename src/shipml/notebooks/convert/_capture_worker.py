"""Run a notebook's cells in a fresh interpreter and bring back what the converter asks for.

Started by `shipml.notebooks.convert.capture` in a scratch copy of the notebook's folder, by
path and with that folder first on sys.path, so relative paths and local modules resolve as
in Jupyter and nothing the notebook writes lands next to it. PLAN (JSON) lists the cells' code
(the preparation's learning places already routed through `learned`) and what to save; OUT is
a directory that receives `progress` (the cell running now) and `capture.pkl`.

The cells run in a module registered as `__main__` (as in a Jupyter kernel, so the notebook
can pickle its own classes); classes the notebook defines are renamed into the module the
generated project will hold them in, so that what is saved here loads there.
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

_SCORING_METHODS = ("predict", "predict_proba")
_MAX_CALLS = 8


class _CellError(Exception):
    """A cell raised; `line` is the line of the cell where it did."""

    def __init__(self, cell: int, line: int | None, message: str) -> None:
        super().__init__(message)
        self.cell = cell
        self.line = line
        self.message = message


class _Run:
    """The state of one run: the namespace, what was saved, the recorders."""

    def __init__(self, plan: dict[str, Any], out: Path) -> None:
        self.plan = plan
        self.out = out
        self.module = types.ModuleType("__main__")
        self.namespace = self.module.__dict__
        self.namespace["__builtins__"] = builtins
        self.namespace["display"] = lambda *args, **kwargs: None  # IPython's, a no-op here
        self.result: dict[str, Any] = {
            "error": None,
            "values": {},
            "unsaved": {},
            "splits": {},
            "calls": [],
            "fit": None,
        }
        self.position: tuple[int, int] = (0, 0)
        self.model_object: Any = None
        self.wrapped: Any = None

    def install(self) -> None:
        """Make the namespace a module, bind `learned`, record train/test splits."""
        sys.modules["__main__"] = self.module
        classes = self.plan["classes_module"]
        sys.modules[classes] = self.module
        learned = self.plan.get("learned")
        if learned is not None:
            module = types.ModuleType("learned")
            sys.modules["learned"] = module  # dataclasses look their module up while building
            exec(compile(learned["source"], "learned.py", "exec"), module.__dict__)
            self.namespace["learned"] = module.Learned(label=learned["label"] or "")
        self._record_splits()

    def run(self) -> None:
        """Every cell, top to bottom; the first failure is kept in the result."""
        try:
            for cell in self.plan["cells"]:
                number = cell["number"]
                (self.out / "progress").write_text(str(number), encoding="utf-8")
                self._run_cell(number, cell["code"])
                self._adopt_classes()
        except _CellError as error:
            self.result["error"] = {
                "cell": error.cell,
                "line": error.line,
                "message": error.message,
            }
        finally:
            self._unwrap()

    def finish(self) -> None:
        """What is computed once the notebook has run: model, learned state, references."""
        if self.result["error"] is not None or "scoring" not in self.plan:
            self.result["calls"] = []
            self.result["fit"] = None
            return
        try:
            self._finish()
        except Exception as error:
            self.result["error"] = {
                "cell": self.plan["scoring"]["cell"],
                "line": None,
                "message": f"the notebook's predictions cannot be reproduced: {_describe(error)}",
            }

    # -- running cells ---------------------------------------------------------------------

    def _run_cell(self, number: int, code: str) -> None:
        filename = f"<cell {number}>"
        try:
            tree = ast.parse(code, filename)
        except SyntaxError as error:
            raise _CellError(number, error.lineno, _describe(error)) from None
        for position, statement in enumerate(tree.body):
            self.position = (number, position)
            self._save("before", number, position)
            self._wrap_model()
            try:
                module = ast.Module(body=[statement], type_ignores=[])
                exec(compile(module, filename, "exec"), self.namespace)
            except Exception as error:
                raise _CellError(number, _line_in(error, filename), _describe(error)) from None
            self._save("after", number, position)
            self._after_fit(number, position)

    def _save(self, when: str, cell: int, position: int) -> None:
        for request in self.plan["snapshots"]:
            if (request["when"], request["cell"], request["statement"]) != (when, cell, position):
                continue
            for name in request["names"]:
                key = f"{when}:{cell}:{position}:{name}"
                if name not in self.namespace:
                    continue
                payload = _pickled(self.namespace[name])
                if isinstance(payload, bytes):
                    self.result["values"][key] = payload
                else:
                    self.result["unsaved"][key] = payload

    def _after_fit(self, cell: int, position: int) -> None:
        fit = self.plan.get("fit")
        if fit is None or (fit["cell"], fit["statement"]) != (cell, position):
            return
        try:
            x = eval(fit["x"], self.namespace)
            y = eval(fit["y"], self.namespace)
        except Exception:
            return
        self.result["fit"] = {"x": x, "y": y}
        self.result["fit_x_frame"] = type(x).__name__ == "DataFrame"

    def _adopt_classes(self) -> None:
        """Classes defined by the notebook live in the generated project's module."""
        target = self.plan["classes_module"]
        for value in list(self.namespace.values()):
            if isinstance(value, type) and value.__module__ == "__main__":
                value.__module__ = target

    # -- train/test splits ------------------------------------------------------------------

    def _record_splits(self) -> None:
        try:
            import numpy as np
            from sklearn import model_selection
        except ImportError:
            return
        original = model_selection.train_test_split
        run = self

        def recording(*arrays: Any, **options: Any) -> Any:
            if not arrays:
                return original(*arrays, **options)
            positions = np.arange(len(arrays[0]))
            parts = original(*arrays, positions, **options)
            index = getattr(arrays[0], "index", None)
            run.result["splits"][f"{run.position[0]}:{run.position[1]}"] = {
                "train": parts[-2],
                "test": parts[-1],
                "index": None if index is None else index.to_numpy(),
                "rows": len(arrays[0]),
            }
            return parts[:-2]

        model_selection.train_test_split = recording

    # -- the model's scoring calls -----------------------------------------------------------

    def _wrap_model(self) -> None:
        """Record the kept model's scoring calls (the object its name holds now).

        The recorder sits on the model's class and records calls on that one object only:
        an object of the notebook may be pickled (a model dumped to a file), and a method
        set on the object itself could not be."""
        if "scoring" not in self.plan:
            return
        name = self.plan["scoring"]["model"]
        model = self.namespace.get(name)
        if model is None or model is self.wrapped:
            return
        self._unwrap()
        self.wrapped = model
        cls = type(model)
        self.patched = []
        for method in _SCORING_METHODS:
            original = cls.__dict__.get(method)
            inherited = getattr(cls, method, None)
            if inherited is None:
                continue
            setattr(cls, method, self._recording(method, inherited))
            self.patched.append((cls, method, original))

    def _unwrap(self) -> None:
        for cls, method, original in getattr(self, "patched", []):
            if original is None:
                delattr(cls, method)
            else:
                setattr(cls, method, original)
        self.patched = []
        self.wrapped = None

    def _recording(self, method: str, original: Any) -> Any:
        run = self

        def recorder(model: Any, *args: Any, **kwargs: Any) -> Any:
            output = original(model, *args, **kwargs)
            if model is run.wrapped and args and len(run.result["calls"]) < _MAX_CALLS:
                run.result["calls"].append(
                    {
                        "cell": run.position[0],
                        "statement": run.position[1],
                        "method": method,
                        "rows": args[0],
                        "output": output,
                    }
                )
            return output

        return recorder

    # -- after the run -----------------------------------------------------------------------

    def _finish(self) -> None:
        import numpy as np

        scoring = self.plan["scoring"]
        model = self.namespace[scoring["model"]]
        learned = self.namespace.get("learned")
        raw = self._raw_frame()
        if learned is not None:
            learned.label = self.result.get("label") or learned.label
            learned.done()
            self.result["learned"] = _pickled(learned)
        self.result["model"] = _pickled(model)
        self.result["model_info"] = _model_info(model)
        split = self.result["splits"].get(self.plan.get("split_key") or "")
        eligible = {(c, s) for c, s in self.plan["reference_statements"]}
        calls = [c for c in self.result["calls"] if (c["cell"], c["statement"]) in eligible]
        fit = self.result["fit"]
        if fit is not None:  # the rows the model was fitted on, when nothing else was scored
            calls.append({"cell": self.plan["fit"]["cell"], "rows": fit["x"], "part": "train"})
        reference = _reference(calls, split, raw)
        if reference is not None:
            call, labels = reference
            method = scoring["method"]
            scores = getattr(model, method)(call["rows"])
            scores = eval(scoring["post"], {**self.namespace, "__scores__": scores})
            expected = eval(scoring["column"], {**self.namespace, scoring["score"]: scores})
            self.result["reference"] = {
                "labels": labels,
                "expected": np.asarray(expected),
                "cell": call["cell"],
                "fit_rows": call.get("part") == "train",
                "model_input": _pickled(call["rows"]),
            }
            self.result["refit"] = _refit_reproduces(
                model, self.result["fit"], call["rows"], method
            )
        fit = self.result["fit"]
        if fit is not None:
            self.result["fit_labels"] = _labels_of(fit["x"], split, "train", raw)
        self.result["fit"] = None  # the fit's and the calls' arrays are not needed back
        self.result["calls"] = [
            {"cell": c["cell"], "method": c["method"]} for c in self.result["calls"]
        ]

    def _raw_frame(self) -> Any:
        """The training data as read, label included (a dataset's X and y put together)."""
        import numpy as np
        import pandas as pd

        ingest = self.plan["ingest"]
        prefix = f"after:{ingest['cell']}:{ingest['statement']}:"
        saved = {
            name: pickle.loads(self.result["values"][prefix + name])
            for name in ingest["names"]
            if prefix + name in self.result["values"]
        }
        label = self.plan["learned"]["label"]
        frames = [n for n, v in saved.items() if isinstance(v, pd.DataFrame)]
        with_label = [n for n in frames if label and label in saved[n].columns]
        if ingest["kind"] == "file" or with_label:
            name = (with_label or frames)[-1] if frames else None
            raw = saved[name] if name else None
            self.result["frame_name"] = name
        else:
            x_name = next((n for n, v in saved.items() if np.ndim(_array(v)) == 2), None)
            y_name = next((n for n, v in saved.items() if np.ndim(_array(v)) == 1), None)
            x, y = saved.get(x_name), saved.get(y_name)
            names = _feature_names(saved, x)
            features = (
                x if isinstance(x, pd.DataFrame) else pd.DataFrame(np.asarray(x), columns=names)
            )
            label = getattr(y, "name", None) or "target"
            raw = features.assign(**{str(label): np.asarray(y)})
            self.result.update(
                label=str(label),
                x_name=x_name,
                y_name=y_name,
                x_array=not isinstance(x, pd.DataFrame),
                y_array=not isinstance(y, pd.Series),
            )
        self.result["raw"] = _pickled(raw)
        return raw


def _array(value: Any) -> Any:
    """Frames, series and arrays as themselves; anything else (a dataset's Bunch) as a scalar."""
    return value if hasattr(value, "shape") and hasattr(value, "__len__") else 0


def _feature_names(saved: dict[str, Any], x: Any) -> list[str]:
    """Column names for an array of features: a loaded dataset's `feature_names`, or x0, x1..."""
    width = x.shape[1] if hasattr(x, "shape") and len(x.shape) == 2 else 0
    for value in saved.values():
        names = getattr(value, "feature_names", None)
        if names is not None and len(names) == width:
            return [str(n) for n in names]
    return [f"x{i}" for i in range(width)]


def _reference(calls: list[dict[str, Any]], split: Any, raw: Any) -> Any:
    """The scoring call whose rows are rows of the data file, and their labels in it."""
    for call in calls:
        labels = _labels_of(call["rows"], split, call.get("part", "test"), raw)
        if labels is not None:
            return call, labels
    return None


def _labels_of(rows: Any, split: Any, part: str, raw: Any) -> Any:
    """The index labels, in the data as read, of `rows` (a frame, or an array cut by `split`)."""
    index = getattr(rows, "index", None)
    if raw is None:
        return None
    if index is not None and len(index) and index.isin(raw.index).all():
        return index.to_numpy()
    if split is not None and len(rows) == len(split[part]):
        positions = split[part]
        if split["index"] is not None:
            return split["index"][positions]
        if split["rows"] == len(raw):
            return raw.index.to_numpy()[positions]
    return None


def _refit_reproduces(model: Any, fit: Any, rows: Any, method: str) -> bool | None:
    """Whether a fresh copy of the model fitted on the same rows scores the same."""
    if fit is None:
        return None
    try:
        import numpy as np
        from sklearn.base import clone

        fresh = clone(model).fit(fit["x"], fit["y"])
        expected = np.asarray(getattr(model, method)(rows))
        again = np.asarray(getattr(fresh, method)(rows))
        if expected.dtype.kind in "fc":
            return bool(np.allclose(expected, again, rtol=1e-9, atol=1e-12))
        return bool((expected == again).all())
    except Exception:  # not a scikit-learn estimator, or it cannot be cloned: unknown
        return None


def _model_info(model: Any) -> dict[str, Any]:
    try:
        from sklearn.base import is_classifier

        classifier = bool(is_classifier(model))
    except ImportError:
        classifier = hasattr(model, "predict_proba")
    cls = type(model)
    return {
        "class": cls.__name__,
        "module": cls.__module__,
        "classifier": classifier,
        "repr": repr(model),
    }


def main(arguments: list[str]) -> int:
    """Run the plan in `arguments[0]`, writing into the directory `arguments[1]`."""
    plan = json.loads(Path(arguments[0]).read_text(encoding="utf-8"))
    out = Path(arguments[1])
    run = _Run(plan, out)
    run.install()
    run.run()
    run.finish()
    (out / "capture.pkl").write_bytes(pickle.dumps(run.result))
    return 0


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
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
