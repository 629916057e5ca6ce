"""Recognise the parts of an ML notebook that map to shipml roles, from the code alone.

The data read (`pd.read_csv("file.csv")`: the training data), the fit (`.fit(X, y)`: train),
a train/test split in front of it, and the scoring call (`.predict` / `.predict_proba`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from shipml.notebooks.convert.statements import Statement, calls_in, method_name, receiver_root

READERS = frozenset(
    {"read_csv", "read_parquet", "read_table", "read_excel", "read_json", "read_feather"}
)
SCORING_METHODS = ("predict_proba", "predict")
SPLITTERS = frozenset({"train_test_split"})


@dataclass(frozen=True)
class DataRead:
    """`customers = pd.read_csv("customers.csv")`: where the training data comes from."""

    statement: Statement
    name: str
    path: str
    reader: str
    plain: bool
    """True when the call passes nothing but the path (the file can be copied as it is)."""


@dataclass(frozen=True)
class ModelFit:
    """`model = LogisticRegression().fit(X_train, y_train)` (or `model.fit(X, y)`)."""

    statement: Statement
    call: ast.Call
    model: str
    x: ast.expr
    y: ast.expr


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
    """A call of the model's scoring method, and the statement and scope holding it."""

    cell: int
    code: str
    call: ast.Call
    method: str
    statement: ast.stmt
    """The innermost statement that holds the call."""
    function: ast.FunctionDef | None
    """The notebook function the call is in, if it is in one."""


def find_data_read(statements: Sequence[Statement], imports: Mapping[str, str]) -> DataRead | None:
    """The first `NAME = pd.read_xxx("relative/path")` of the notebook."""
    for statement in statements:
        node = statement.node
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call)
        ):
            continue
        reader = _pandas_reader(node.value, imports)
        path = _path_argument(node.value)
        if reader is not None and path is not None:
            plain = len(node.value.args) == 1 and not node.value.keywords
            return DataRead(statement, node.targets[0].id, path, reader, plain)
    return None


def reads_of_data(statements: Sequence[Statement], imports: Mapping[str, str]) -> list[Statement]:
    """Every statement that reads a data file with pandas."""
    return [s for s in statements if any(_pandas_reader(c, imports) for c in calls_in(s.node))]


def find_fit(statements: Sequence[Statement]) -> ModelFit | None:
    """The last `.fit(X, y)` with two positional arguments, and the name of the fitted model."""
    found = None
    for statement in statements:
        for call in calls_in(statement.node):
            if method_name(call) == "fit" and len(call.args) >= 2:
                model = _fitted_name(statement.node, call)
                if model is not None:
                    found = ModelFit(statement, call, model, call.args[0], call.args[1])
    return found


def find_split(statements: Sequence[Statement], fit: ModelFit) -> DataSplit | None:
    """The `train_test_split` that binds the fit's X, if that is where X comes from."""
    if not isinstance(fit.x, ast.Name):
        return None
    for statement in statements:
        node = statement.node
        if fit.x.id not in statement.binds or not isinstance(node, ast.Assign):
            continue
        call = node.value
        target = node.targets[0]
        if (
            isinstance(call, ast.Call)
            and _called_name(call) in SPLITTERS
            and isinstance(target, ast.Tuple | ast.List)
            and all(isinstance(element, ast.Name) for element in target.elts)
            and len(target.elts) == 2 * len(call.args)
        ):
            parts = {
                element.id: (position // 2, "train" if position % 2 == 0 else "test")
                for position, element in enumerate(target.elts)
                if isinstance(element, ast.Name)
            }
            return DataSplit(statement, tuple(call.args), parts, _test_size(call))
    return None


def find_scoring(
    cells: Sequence[tuple[int, str, ast.Module]], model: str, fit_cell: int
) -> Scoring | None:
    """The model's scoring call in the last cells that have one (after the fit).

    A call at the top of a cell must be on the model itself; one inside a notebook function
    is on a parameter (`classifier.predict_proba(...)`), which the run confirms.
    """
    for cell, code, tree in reversed(cells):
        if cell < fit_cell:
            break
        parents = _parents(tree)
        for call in calls_in(tree):
            method = method_name(call)
            if method not in SCORING_METHODS:
                continue
            function = _enclosing_function(call, parents)
            if function is None and receiver_root(call) != model:
                continue
            if cell == fit_cell and function is None and call.lineno <= _fit_line(tree):
                continue
            statement = _enclosing_statement(call, parents)
            return Scoring(cell, code, call, method, statement, function)
    return None


def dict_frame_columns(scope: ast.AST) -> dict[str, ast.expr]:
    """Column name -> expression of the `pd.DataFrame({...})` literals in `scope`."""
    columns: dict[str, ast.expr] = {}
    for call in calls_in(scope):
        if _called_name(call) == "DataFrame" and call.args and isinstance(call.args[0], ast.Dict):
            for key, value in zip(call.args[0].keys, call.args[0].values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    columns.setdefault(key.value, value)
    return columns


def _pandas_reader(call: ast.Call, imports: Mapping[str, str]) -> str | None:
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        module = imports.get(call.func.value.id)
        if module == "pandas" and call.func.attr in READERS:
            return call.func.attr
    if isinstance(call.func, ast.Name):
        origin = imports.get(call.func.id, "")
        if origin.startswith("pandas.") and origin.rsplit(".", 1)[1] in READERS:
            return origin.rsplit(".", 1)[1]
    return None


def _path_argument(call: ast.Call) -> str | None:
    candidates = [*call.args[:1], *(k.value for k in call.keywords if k.arg in ("path", "io"))]
    candidates += [k.value for k in call.keywords if k.arg == "filepath_or_buffer"]
    for value in candidates:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def _fitted_name(node: ast.stmt, call: ast.Call) -> str | None:
    """`model` in `model = X().fit(...)`; the receiver in `model.fit(...)`."""
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.value is call
    ):
        return node.targets[0].id
    if isinstance(node, ast.Expr) and node.value is call:
        return receiver_root(call)
    return None


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


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


def _enclosing_function(
    call: ast.Call, parents: Mapping[ast.AST, ast.AST]
) -> ast.FunctionDef | None:
    return next((a for a in _ancestors(call, parents) if isinstance(a, ast.FunctionDef)), None)


def _enclosing_statement(call: ast.Call, parents: Mapping[ast.AST, ast.AST]) -> ast.stmt:
    return next(a for a in _ancestors(call, parents) if isinstance(a, ast.stmt))


def _fit_line(tree: ast.Module) -> int:
    lines = [c.lineno for c in calls_in(tree) if method_name(c) == "fit"]
    return max(lines, default=0)
