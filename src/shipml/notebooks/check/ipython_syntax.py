"""Turn a cell written in IPython syntax into plain Python, recording what was taken out.

IPython itself is not needed: the rules below follow IPython's input transformers for the
forms notebooks use - line magics (`%matplotlib inline`), a cell magic on the first line
(`%%time`), shell escapes (`!pip install ...`), captured output (`files = !ls`,
`t = %timeit -o f()`) and help (`?df`, `df.merge??`). Escaped lines are replaced by `pass`
(`target = None` for captures, the statement itself for `%time statement`) so that line
numbers stay those of the cell.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Literal

IPythonKind = Literal["line_magic", "cell_magic", "shell", "help"]

# Cell magics whose body is Python run in the user namespace; the others (%%bash,
# %%writefile, %%html, ...) hold text in another language.
_PYTHON_BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})

_CAPTURE = re.compile(
    r"^(?P<indent>\s*)(?P<target>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*"
    r"(?P<command>(?:%|!).*)$"
)
_HELP_SUFFIX = re.compile(r"^[A-Za-z_][\w.]*(?:\(\))?\s*\?{1,2}$")


@dataclass(frozen=True)
class IPythonLine:
    """A line of IPython syntax: where it is, what kind, and its command (`%time`, `!pip`)."""

    line: int
    kind: IPythonKind
    text: str
    command: str


@dataclass(frozen=True)
class PythonSource:
    """The plain Python of a cell (same line numbers) and the IPython lines taken out."""

    code: str
    ipython: tuple[IPythonLine, ...] = ()


def to_python(source: str) -> PythonSource:
    """The Python equivalent of a cell's `source`, with its IPython lines listed."""
    if _parses(source):
        return PythonSource(code=source)
    lines = source.split("\n")
    if lines[0].startswith("%%"):
        return _cell_magic(lines)
    code, found = _line_escapes(lines, first_line=1)
    return PythonSource(code="\n".join(code), ipython=tuple(found))


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _cell_magic(lines: list[str]) -> PythonSource:
    header = lines[0].strip()
    name, _, arguments = header[2:].partition(" ")
    magic = IPythonLine(line=1, kind="cell_magic", text=header, command=f"%%{name}")
    if name not in _PYTHON_BODY_CELL_MAGICS:
        return PythonSource(code="", ipython=(magic,))
    capture_target = arguments.split()[0] if name == "capture" and arguments.split() else None
    first = f"{capture_target} = None" if capture_target and capture_target.isidentifier() else ""
    body, found = _line_escapes(lines[1:], first_line=2)
    return PythonSource(code="\n".join([first, *body]), ipython=(magic, *found))


def _line_escapes(lines: list[str], first_line: int) -> tuple[list[str], list[IPythonLine]]:
    code: list[str] = []
    found: list[IPythonLine] = []
    continued = False
    for offset, line in enumerate(lines):
        if continued:
            code.append("")
            continued = line.rstrip().endswith("\\")
            continue
        replacement, escape = _replace_escape(line, first_line + offset)
        code.append(replacement)
        if escape is not None:
            found.append(escape)
            continued = line.rstrip().endswith("\\")
    return code, found


def _replace_escape(line: str, number: int) -> tuple[str, IPythonLine | None]:
    stripped = line.strip()
    indent = line[: len(line) - len(line.lstrip())]
    if not stripped:
        return line, None
    capture = _CAPTURE.match(line)
    if capture and not _parses(line.strip()):
        command = capture["command"]
        kind: IPythonKind = "shell" if command.startswith("!") else "line_magic"
        escape = IPythonLine(number, kind, stripped, _command_of(command))
        return f"{capture['indent']}{capture['target']} = None", escape
    if stripped[0] in "%!":
        kind = "shell" if stripped[0] == "!" else "line_magic"
        escape = IPythonLine(number, kind, stripped, _command_of(stripped))
        return f"{indent}{_timed_statement(stripped) or 'pass'}", escape
    if stripped[0] == "?" or _HELP_SUFFIX.match(stripped):
        return f"{indent}pass", IPythonLine(number, "help", stripped, stripped)
    return line, None


def _timed_statement(stripped: str) -> str | None:
    """`y = f()` from `%time y = f()`: IPython runs it in the notebook's namespace."""
    command, _, statement = stripped.partition(" ")
    if command == "%time" and statement.strip() and _parses(statement.strip()):
        return statement.strip()
    return None


def _command_of(escaped: str) -> str:
    """`%matplotlib` from `%matplotlib inline`, `!pip` from `!pip install x`."""
    prefix = escaped[: len(escaped) - len(escaped.lstrip("%!"))]
    words = escaped[len(prefix) :].split()
    return prefix + (words[0] if words else "")
