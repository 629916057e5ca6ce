"""Recognise the parts of an ML notebook that map to shipml roles, from the code alone.

The data source (`pd.read_csv("train.csv")`, or one of scikit-learn's bundled datasets), every
fit (`model.fit(X, y)`: several models are often tried in turn), every scoring call
(`.predict` / `.predict_proba`), and the train/test splits (`train_test_split`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from shipml.notebooks.check.statements import Statement, calls_in, method_name, receiver_root

READERS = frozenset(
    {"read_csv", "read_parquet", "read_table", "read_excel", "read_json", "read_feather"}
)
SCORING_METHODS = ("predict_proba", "predict")
SPLITTERS = frozenset({"train_test_split"})
_LOADER_PREFIX = "load_"


@dataclass(frozen=True)
class DataSource:
    """Where the training data comes from: a file read with pandas, or a bundled dataset.

    `ingest` are the statements that bring it in (for a dataset: the loading and the building
    of frames from it, in the loading cell); the rest of the notebook starts from `names`.
    """

    kind: Literal["file", "dataset"]
    statement: Statement
    ingest: tuple[Statement, ...]
    names: tuple[str, ...]
    what: str
    """The file's path, or the dataset's loader (`load_wine`)."""
    plain: bool = False
    """For a file: the call passes nothing but the path (the file can be copied as it is)."""


@dataclass(frozen=True)
class ModelFit:
    """`model = LogisticRegression().fit(X_train, y_train)` (or `model.fit(X, y)`)."""

    statement: Statement
    call: ast.Call
    model: str
    x: ast.expr
    y: ast.expr
    in_loop: bool


@dataclass(frozen=True)
class DataSplit:
    """`X_train, X_test, y_train, y_test = train_test_split(features, target, ...)`."""

    statement: Statement
    arrays: tuple[ast.expr, ...]
    parts: Mapping[str, tuple[int, str]]
    """Each bound name -> (position of the array it is cut from, "train" or "test")."""
    test_size: float | None


@dataclass(frozen=True)
class Scoring:
    """A call of a scoring method, the top-level statement holding it and where it is."""

    statement: Statement
    call: ast.Call
    method: str
    receiver: str | None
    """The name at the root of the receiver (`grid` in `grid.best_estimator_.predict(...)`)."""
    function: ast.FunctionDef | None
    """The notebook function the call is in, if it is in one (then the receiver is a parameter)."""

    @property
    def cell(self) -> int:
        """The cell of the call."""
        return self.statement.cell


def find_source(statements: Sequence[Statement], imports: Mapping[str, str]) -> DataSource | None:
    """The first statement that reads a data file with pandas or loads a bundled dataset."""
    for position, statement in enumerate(statements):
        node = statement.node
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
            continue
        call = node.value
        reader = pandas_reader(call, imports)
        if reader is not None and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            path = _path_argument(call)
            if path is not None:
                plain = len(call.args) == 1 and not call.keywords
                name = node.targets[0].id
                return DataSource("file", statement, (statement,), (name,), path, plain)
        loader = dataset_loader(call, imports)
        if loader is not None:
            ingest = _dataset_ingest(statements[position:], statement)
            names = _ingest_outputs(ingest)
            return DataSource("dataset", statement, ingest, names, loader)
    return None


def reads_of_data(statements: Sequence[Statement], imports: Mapping[str, str]) -> list[Statement]:
    """Every statement that reads a data file with pandas or loads a bundled dataset."""
    return [
        s
        for s in statements
        if any(pandas_reader(c, imports) or dataset_loader(c, imports) for c in calls_in(s.node))
    ]


def find_fits(statements: Sequence[Statement]) -> list[ModelFit]:
    """Every `.fit(X, y)` (X and y given), top to bottom, with the name of the fitted model."""
    found = []
    for statement in statements:
        parents = _parents(statement.node)
        for call in calls_in(statement.node):
            if method_name(call) != "fit":
                continue
            arguments = _x_and_y(call)
            model = _fitted_name(statement.node, call)
            if arguments is None or model is None:
                continue
            in_loop = any(
                isinstance(a, ast.For | ast.While | ast.comprehension)
                for a in _ancestors(call, parents)
            )
            if any(isinstance(a, ast.FunctionDef | ast.Lambda) for a in _ancestors(call, parents)):
                continue
            found.append(ModelFit(statement, call, model, *arguments, in_loop))
    return found


def find_splits(statements: Sequence[Statement]) -> list[DataSplit]:
    """Every `a_train, a_test, ... = train_test_split(a, ...)`."""
    found = []
    for statement in statements:
        node = statement.node
        if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Call):
            continue
        call, target = node.value, node.targets[0]
        if (
            called_name(call) in SPLITTERS
            and isinstance(target, ast.Tuple | ast.List)
            and all(isinstance(element, ast.Name) for element in target.elts)
            and len(target.elts) == 2 * len(call.args)
        ):
            parts = {
                element.id: (position // 2, "train" if position % 2 == 0 else "test")
                for position, element in enumerate(target.elts)
                if isinstance(element, ast.Name)
            }
            found.append(DataSplit(statement, tuple(call.args), parts, _test_size(call)))
    return found


def find_scorings(statements: Sequence[Statement]) -> list[Scoring]:
    """Every call of `.predict(...)` / `.predict_proba(...)` with rows, top to bottom."""
    found = []
    for statement in statements:
        parents = _parents(statement.node)
        for call in calls_in(statement.node):
            method = method_name(call)
            if method not in SCORING_METHODS or not call.args:
                continue
            function = next(
                (a for a in _ancestors(call, parents) if isinstance(a, ast.FunctionDef)), None
            )
            found.append(Scoring(statement, call, method, receiver_root(call), function))
    found.sort(key=lambda s: (s.statement.cell, s.statement.line, s.call.lineno, s.call.col_offset))
    return found


def dict_frame_columns(scope: ast.AST) -> dict[str, ast.expr]:
    """Column name -> expression of the `pd.DataFrame({...})` literals in `scope`."""
    columns: dict[str, ast.expr] = {}
    for call in calls_in(scope):
        if called_name(call) == "DataFrame" and call.args and isinstance(call.args[0], ast.Dict):
            for key, value in zip(call.args[0].keys, call.args[0].values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    columns.setdefault(key.value, value)
    return columns


def pandas_reader(call: ast.Call, imports: Mapping[str, str]) -> str | None:
    """`read_csv` for `pd.read_csv(...)` (pandas imported under any name), else None."""
    return _imported_call(call, imports, "pandas", lambda name: name in READERS)


def dataset_loader(call: ast.Call, imports: Mapping[str, str]) -> str | None:
    """`load_wine` for `load_wine()` or `datasets.load_wine()` from sklearn.datasets."""
    return _imported_call(
        call, imports, "sklearn.datasets", lambda name: name.startswith(_LOADER_PREFIX)
    )


def called_name(call: ast.Call) -> str | None:
    """The name of the function or method called."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _imported_call(
    call: ast.Call, imports: Mapping[str, str], module: str, accept: Callable[[str], bool]
) -> str | None:
    """The function's name when `call` calls one of `module`'s that `accept`s, however imported."""
    func = call.func
    if isinstance(func, ast.Attribute) and _module_of(func.value, imports) == module:
        return func.attr if accept(func.attr) else None
    if isinstance(func, ast.Name):
        origin = imports.get(func.id, "")
        parent, _, name = origin.rpartition(".")
        if parent == module and accept(name):
            return name
    return None


def _module_of(node: ast.expr, imports: Mapping[str, str]) -> str | None:
    """`sklearn.datasets` for `datasets` (from sklearn import datasets) or `sklearn.datasets`."""
    if isinstance(node, ast.Name):
        return imports.get(node.id)
    if isinstance(node, ast.Attribute):
        parent = _module_of(node.value, imports)
        return f"{parent}.{node.attr}" if parent else None
    return None


def _dataset_ingest(statements: Sequence[Statement], loader: Statement) -> tuple[Statement, ...]:
    """The loading statement and those after it, in its cell, that build on what it loaded."""
    ingest = [loader]
    derived = set(loader.binds)
    for statement in statements[1:]:
        if statement.cell != loader.cell:
            break
        changed = statement.binds | statement.changes
        if statement.reads & derived and changed and statement.kind == "code":
            ingest.append(statement)
            derived |= changed
    return tuple(ingest)


def _ingest_outputs(ingest: Sequence[Statement]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for statement in ingest:
        for name in sorted(statement.binds | statement.changes):
            names[name] = None
    return tuple(names)


def _x_and_y(call: ast.Call) -> tuple[ast.expr, ast.expr] | None:
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    x = call.args[0] if call.args else keywords.get("X")
    y = call.args[1] if len(call.args) > 1 else keywords.get("y")
    return (x, y) if x is not None and y is not None else None


def _path_argument(call: ast.Call) -> str | None:
    candidates = [*call.args[:1], *(k.value for k in call.keywords if k.arg in ("path", "io"))]
    candidates += [k.value for k in call.keywords if k.arg == "filepath_or_buffer"]
    for value in candidates:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def _fitted_name(node: ast.stmt, call: ast.Call) -> str | None:
    """`model` in `model = X().fit(...)`; the receiver's root name in `model.fit(...)`."""
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.value is call
    ):
        return node.targets[0].id
    return receiver_root(call)


def _test_size(call: ast.Call) -> float | None:
    for keyword in call.keywords:
        if keyword.arg in ("test_size", "train_size") and isinstance(keyword.value, ast.Constant):
            value = keyword.value.value
            if isinstance(value, float) and 0 < value < 1:
                return value if keyword.arg == "test_size" else round(1 - value, 6)
    return None


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _ancestors(node: ast.AST, parents: Mapping[ast.AST, ast.AST]) -> Iterator[ast.AST]:
    while node in parents:
        node = parents[node]
        yield node
