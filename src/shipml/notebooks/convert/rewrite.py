"""Pieces of a cell's source, and edits that replace some of their expressions.

Edits work on the original text (comments and layout stay as the author wrote them); the
syntax tree only says where each replaced expression starts and ends.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

_SIMPLE = (ast.Name, ast.Attribute, ast.Subscript, ast.Call, ast.Constant, ast.List, ast.Dict)


@dataclass(frozen=True)
class Snippet:
    """A top-level statement's source, taken out of its cell and dedented."""

    cell: int
    line: int
    """The line of the cell on which the snippet starts."""
    text: str

    def tree(self) -> ast.Module:
        """The snippet parsed."""
        return ast.parse(self.text)

    def cell_line(self, line: int) -> int:
        """The cell line of the snippet's `line` (1-based)."""
        return self.line + line - 1

    def with_text(self, text: str) -> Snippet:
        """The same snippet with new text."""
        return Snippet(self.cell, self.line, text)


@dataclass(frozen=True)
class Edit:
    """Replace the source of `node` (a node of the text being edited) by `text`."""

    node: ast.AST
    text: str


def source_of(code: str, node: ast.AST) -> str:
    """The source of `node` in `code`, dedented (continuation lines keep their layout)."""
    starts = _line_starts(code)
    first, column, last, end_column = _span(node)
    begin, end = _offset(code, starts, first, column), _offset(code, starts, last, end_column)
    indent = " " * (begin - starts[first - 1])
    return textwrap.dedent(indent + code[begin:end])


def expression_text(code: str, node: ast.AST) -> str:
    """The source of an expression, in parentheses unless it is a name, call, subscript, ..."""
    text = source_of(code, node)
    return text if isinstance(node, _SIMPLE) else f"({text})"


def replace(text: str, edits: Sequence[Edit]) -> str:
    """`text` with each edit's node replaced; the edits must not overlap."""
    starts = _line_starts(text)
    pieces, position = [], 0
    for edit in sorted(edits, key=lambda e: _span(e.node)[:2]):
        first, column, last, end_column = _span(edit.node)
        begin = _offset(text, starts, first, column)
        end = _offset(text, starts, last, end_column)
        if begin < position:
            raise ValueError("overlapping edits")
        pieces += [text[position:begin], edit.text]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def outermost(nodes: Sequence[ast.AST]) -> list[ast.AST]:
    """The nodes not contained in another one of `nodes`."""
    spans = [_span(node) for node in nodes]
    return [
        node
        for position, (node, span) in enumerate(zip(nodes, spans, strict=True))
        if not any(
            _within(span, other) and (span != other or earlier < position)
            for earlier, other in enumerate(spans)
            if earlier != position
        )
    ]


def _within(inner: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return (outer[0], outer[1]) <= (inner[0], inner[1]) and (inner[2], inner[3]) <= (
        outer[2],
        outer[3],
    )


def _span(node: ast.AST) -> tuple[int, int, int, int]:
    return (
        getattr(node, "lineno", 1),
        getattr(node, "col_offset", 0),
        getattr(node, "end_lineno", 1) or 1,
        getattr(node, "end_col_offset", 0) or 0,
    )


def _line_starts(code: str) -> list[int]:
    starts = [0]
    for line in code.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _offset(code: str, starts: list[int], line: int, column_bytes: int) -> int:
    """The character offset of (1-based line, UTF-8 byte column) in `code`."""
    start = starts[line - 1]
    end = starts[line] if line < len(starts) else len(code)
    prefix = code[start:end].encode("utf-8")[:column_bytes]
    return start + len(prefix.decode("utf-8", errors="ignore"))
