"""Traps in a cell's text: syntax errors, IPython syntax, hard-coded absolute paths."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence

from shipml.notebooks.check.analysis import CellFlow
from shipml.notebooks.check.findings import Finding, FindingKind, FindingMaker
from shipml.notebooks.check.ipython_syntax import IPythonLine

_ABSOLUTE_PATH = re.compile(
    r"""^(?:
        ~[/\\][^\n]*                           # home directory: ~/data
      | [A-Za-z]:[\\/][^\n]*                   # Windows drive: C:\data, D:/data
      | \\\\[^\\\s]+\\[^\n]*                   # UNC share: \\server\share
      | /(?!/)[^/\n\t]+/[^\n\t]*                # POSIX, two or more parts: /home/ana/x.csv
      | /(?!/)[^/\s]+\.[A-Za-z0-9]{1,8}         # POSIX file at the root: /data.csv
    )$""",
    re.VERBOSE,
)
_MAGIC_HINTS = {
    "pip": "declare the package as a dependency of the project instead",
    "conda": "declare the package as a dependency of the project instead",
    "matplotlib": "it only sets how Jupyter shows plots",
    "run": "import the code as a module instead",
    "load_ext": "it only sets up the interactive session",
    "autoreload": "it only sets up the interactive session",
}


def source_findings(flows: Sequence[CellFlow], make: FindingMaker) -> list[Finding]:
    """Syntax errors, magics, shell escapes and absolute paths in every code cell."""
    findings: list[Finding] = []
    for flow in flows:
        if flow.syntax_error is not None:
            findings.append(
                make(
                    FindingKind.SYNTAX_ERROR,
                    flow.cell,
                    f"the cell is not valid Python: {flow.syntax_error.message}",
                    line=flow.syntax_error.line,
                )
            )
        findings += [_ipython_finding(flow.cell, line, make) for line in flow.ipython]
        if flow.tree is not None:
            findings += [
                make(
                    FindingKind.ABSOLUTE_PATH,
                    flow.cell,
                    f"hard-coded absolute path {path!r}: it exists on one machine only; "
                    "take it from configuration or make it relative to the project",
                    line=line,
                    names=[path],
                )
                for path, line in absolute_paths(flow.tree)
            ]
    return findings


def absolute_paths(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """String literals (f-string beginnings included, docstrings not) that are absolute paths."""
    skipped = {id(node) for node in _docstrings(tree)} | {
        id(node) for node in _inner_fstring_parts(tree)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skipped
            and _ABSOLUTE_PATH.match(node.value)
        ):
            yield node.value, node.lineno


def _ipython_finding(cell: int, escape: IPythonLine, make: FindingMaker) -> Finding:
    if escape.kind == "shell":
        kind, what = FindingKind.SHELL_COMMAND, "a shell command run through IPython"
    elif escape.kind == "help":
        kind, what = FindingKind.MAGIC, "IPython's help syntax"
    else:
        kind, what = FindingKind.MAGIC, "an IPython magic"
    hint = _MAGIC_HINTS.get(escape.command.lstrip("%!"))
    message = f"`{escape.text}` is {what}; a Python pipeline cannot run it"
    return make(
        kind,
        cell,
        f"{message}: {hint}" if hint else message,
        line=escape.line,
        names=[escape.command],
    )


def _docstrings(tree: ast.AST) -> Iterator[ast.Constant]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                yield body[0].value


def _inner_fstring_parts(tree: ast.AST) -> Iterator[ast.AST]:
    """The literal parts of f-strings after the first, and format specs: not path starts."""
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield from node.values[1:]
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            yield from ast.walk(node.format_spec)
