"""The places where a notebook's preparation learns from the data it has, and their rewriting.

`train["Age"].fillna(train["Age"].median())` computes a median of the rows at hand: run on a
batch to score, it would compute another one (training/serving skew). Each such place (a
*site*) is rewritten to go through the project's `Learned` (see `templates/learned.py.tmpl`):

- a statistic of the data (`.median()`, `.mode()`, `np.percentile(...)`, a `groupby` mean, ...)
  -> `learned.value("cell 10 line 1", lambda: <the statistic>)`;
- a scaler, encoder or imputer fitted on the data (`scaler.fit_transform(X)`, `enc.fit(X)`)
  -> `learned.fit_transform("...", scaler, X)` / `enc = learned.fit("...", enc, X)`;
- indicator columns (`pd.get_dummies(...)`) -> `learned.columns("...", pd.get_dummies(...))`.

Inside a loop the loop's variables are part of the place (`per=col`). Some computations depend on
the other rows of a batch in a way nothing can replay (`groupby(...).transform(...)`,
`pd.qcut`): those are reported, never rewritten.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

SiteKind = Literal["value", "fit", "fit_transform", "columns"]

REDUCERS = frozenset(
    {
        "mean",
        "median",
        "mode",
        "std",
        "var",
        "min",
        "max",
        "sum",
        "quantile",
        "nunique",
        "unique",
        "value_counts",
        "count",
        "idxmax",
        "idxmin",
        "prod",
        "skew",
        "kurt",
        "kurtosis",
        "sem",
        "describe",
        "corr",
        "cov",
    }
)
NUMPY_REDUCERS = frozenset(
    {
        "mean",
        "median",
        "std",
        "var",
        "min",
        "max",
        "sum",
        "percentile",
        "quantile",
        "nanmean",
        "nanmedian",
        "nanstd",
        "nanvar",
        "nanmin",
        "nanmax",
        "nanpercentile",
        "unique",
        "average",
        "amin",
        "amax",
    }
)
FIT_METHODS = {"fit": "fit", "fit_transform": "fit_transform", "fit_predict": "fit_transform"}
_ROWWISE_AXES = (1, "columns")


@dataclass(frozen=True)
class Site:
    """One place that learns from the data: its name, kind, node and loop variables."""

    key: str
    kind: SiteKind
    node: ast.Call
    per: tuple[str, ...]


@dataclass(frozen=True)
class BatchDependent:
    """A computation that depends on the other rows of a batch and cannot be replayed."""

    line: int
    what: str


def find_sites(
    tree: ast.AST,
    cell: int,
    first_line: int,
    data_names: frozenset[str],
    modules: Mapping[str, str],
) -> list[Site]:
    """The outermost learning places in `tree` (a statement parsed on its own, its lines
    counted from `first_line` of `cell`), in source order."""
    parents = _parents(tree)
    found: list[tuple[ast.Call, SiteKind]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            kind = _kind(node, data_names, modules)
            if kind is not None:
                found.append((node, kind))
    nodes = {id(node) for node, _ in found}
    outermost = [
        (n, k) for n, k in found if not any(id(a) in nodes for a in _ancestors(n, parents))
    ]
    outermost.sort(key=lambda item: (item[0].lineno, item[0].col_offset))
    sites: list[Site] = []
    per_line: dict[int, int] = {}
    for node, kind in outermost:
        line = first_line + node.lineno - 1
        per_line[line] = per_line.get(line, 0) + 1
        key = f"cell {cell} line {line}" + (f" #{per_line[line]}" if per_line[line] > 1 else "")
        sites.append(Site(key, kind, node, _loop_variables(node, parents)))
    return sites


def batch_dependent(
    tree: ast.AST, first_line: int, modules: Mapping[str, str]
) -> list[BatchDependent]:
    """Computations whose result for a row depends on the other rows of the batch."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        method, receiver = node.func.attr, node.func.value
        line = first_line + node.lineno - 1
        if method in ("transform", "apply", "fillna") and _is_groupby(receiver):
            found.append(
                BatchDependent(
                    line,
                    f"`groupby(...).{method}(...)` computes each row "
                    "from the other rows of its group in the batch",
                )
            )
        elif _module_call(node, modules, "pandas", "qcut"):
            found.append(BatchDependent(line, "`pd.qcut(...)` cuts at the quantiles of the batch"))
        elif _module_call(node, modules, "pandas", "cut") and _integer_bins(node):
            found.append(
                BatchDependent(line, "`pd.cut(..., bins=<count>)` cuts the range of the batch")
            )
        elif method == "rank":
            found.append(BatchDependent(line, "`.rank()` ranks each row among the batch"))
    return found


def _kind(
    call: ast.Call, data_names: frozenset[str], modules: Mapping[str, str]
) -> SiteKind | None:
    if _module_call(call, modules, "pandas", "get_dummies"):
        return "columns" if _reads(call, data_names) else None
    if isinstance(call.func, ast.Attribute):
        method = call.func.attr
        if method in FIT_METHODS and (call.args or call.keywords):
            if _reads(call, data_names):
                kind = FIT_METHODS[method]
                return "fit" if kind == "fit" else "fit_transform"
            return None
        if method in REDUCERS and _reads(call.func.value, data_names) and not _rowwise(call):
            return "value"
        if (
            method in NUMPY_REDUCERS
            and isinstance(call.func.value, ast.Name)
            and modules.get(call.func.value.id) == "numpy"
            and call.args
            and _reads(call.args[0], data_names)
            and not _rowwise(call)
        ):
            return "value"
    return None


def _rowwise(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg == "axis" and isinstance(keyword.value, ast.Constant):
            return keyword.value.value in _ROWWISE_AXES
    return False


def _reads(node: ast.AST, names: frozenset[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _module_call(call: ast.Call, modules: Mapping[str, str], module: str, name: str) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.attr == name and modules.get(func.value.id) == module
    if isinstance(func, ast.Name):
        return modules.get(func.id) == f"{module}.{name}"
    return False


def _is_groupby(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and node.func.attr == "groupby":
                return True
            node = node.func
        else:
            node = node.value
    return False


def _integer_bins(call: ast.Call) -> bool:
    bins = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "bins":
            bins = keyword.value
    return isinstance(bins, ast.Constant) and isinstance(bins.value, int)


def _loop_variables(node: ast.AST, parents: Mapping[ast.AST, ast.AST]) -> tuple[str, ...]:
    names: list[str] = []
    for ancestor in _ancestors(node, parents):
        targets: list[ast.expr] = []
        if isinstance(ancestor, ast.For | ast.AsyncFor):
            targets = [ancestor.target]
        elif isinstance(ancestor, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            targets = [g.target for g in ancestor.generators]
        for target in targets:
            names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return tuple(dict.fromkeys(reversed(names)))


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _ancestors(node: ast.AST, parents: Mapping[ast.AST, ast.AST]) -> Iterator[ast.AST]:
    while node in parents:
        node = parents[node]
        yield node
