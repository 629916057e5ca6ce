"""The learning places of the preparation, rewritten to go through the project's `learned`.

`train["Age"].median()` becomes `learned.value("cell 10 line 1", lambda: train["Age"].median())`;
`scaler.fit_transform(X)` becomes `learned.fit_transform("...", scaler, X)`; `enc.fit(X)` alone
becomes `enc = learned.fit("...", enc, X)`; `pd.get_dummies(...)` becomes
`learned.columns("...", pd.get_dummies(...))` (see `templates/learned.py.tmpl`).
"""

from __future__ import annotations

import ast

from shipml.notebooks.check.sites import Site
from shipml.notebooks.convert.rewrite import Edit, replace, source_of

LEARNER = "learned"


def rewritten(text: str, tree: ast.AST, sites: list[Site], statement: ast.stmt) -> str:
    """`text` (whose parse is `tree`) with each site going through `learned`."""
    edits = [Edit(site.node, _wrapped(text, site)) for site in sites]
    result = replace(text, edits)
    rebinding = _rebinding(statement, sites)
    return f"{rebinding} = {result}" if rebinding else result


def _wrapped(text: str, site: Site) -> str:
    node = site.node
    key = _quoted(site.key)
    per = _per(site.per)
    if site.kind in ("value", "columns"):
        inner = source_of(text, node)
        if site.kind == "value":
            return f"{LEARNER}.value({key}, lambda: {inner}{per})"
        return f"{LEARNER}.columns({key}, {inner}{per})"
    assert isinstance(node.func, ast.Attribute)
    estimator = source_of(text, node.func.value)
    arguments = [source_of(text, a) for a in node.args]
    arguments += [
        f"{k.arg}={source_of(text, k.value)}" if k.arg else f"**{source_of(text, k.value)}"
        for k in node.keywords
    ]
    inner = ", ".join([key, estimator, *arguments])
    return f"{LEARNER}.{site.kind}({inner}{per})"


def _rebinding(statement: ast.stmt, sites: list[Site]) -> str | None:
    """`enc` for a statement that is only `enc.fit(...)`: replayed, it must rebind the name."""
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return None
    call = statement.value
    if len(sites) == 1 and sites[0].kind == "fit" and isinstance(call.func, ast.Attribute):
        receiver = call.func.value
        if isinstance(receiver, ast.Name):
            return receiver.id
    return None


def _per(variables: tuple[str, ...]) -> str:
    if not variables:
        return ""
    value = variables[0] if len(variables) == 1 else f"({', '.join(variables)})"
    return f", per={value}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
