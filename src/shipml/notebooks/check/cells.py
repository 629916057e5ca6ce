"""Read a .ipynb file (nbformat 4) into plain cells, without depending on nbformat."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shipml.errors import UnreadableNotebook

CellKind = Literal["code", "markdown", "raw"]
_CELL_KINDS: tuple[CellKind, ...] = ("code", "markdown", "raw")


@dataclass(frozen=True)
class Cell:
    """One notebook cell; `number` is its 1-based position from the top, markdown included."""

    number: int
    kind: CellKind
    source: str
    execution_count: int | None = None
    tags: tuple[str, ...] = ()

    @property
    def is_code(self) -> bool:
        """True for a code cell."""
        return self.kind == "code"

    @property
    def is_blank(self) -> bool:
        """True when the cell holds only whitespace."""
        return not self.source.strip()


@dataclass(frozen=True)
class Notebook:
    """The cells of a notebook, top to bottom, and where it was read from."""

    path: Path
    cells: tuple[Cell, ...]

    @property
    def code_cells(self) -> tuple[Cell, ...]:
        """The code cells, top to bottom."""
        return tuple(cell for cell in self.cells if cell.is_code)

    def cell(self, number: int) -> Cell:
        """The cell at 1-based position `number`."""
        return self.cells[number - 1]


def read_notebook(path: Path) -> Notebook:
    """Read `path` as an nbformat 4 notebook of a Python kernel; UnreadableNotebook otherwise."""
    document = _load_json(path)
    _check_format(path, document)
    cells = tuple(_parse_cell(path, n, raw) for n, raw in enumerate(document["cells"], 1))
    return Notebook(path=path, cells=cells)


def _load_json(path: Path) -> Any:
    if path.is_dir():
        raise UnreadableNotebook(f"{path} is a directory, not a notebook file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableNotebook(f"{path} not found") from None
    except OSError as error:
        raise UnreadableNotebook(f"{path} cannot be read: {error.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableNotebook(
            f"{path} is not a notebook: not UTF-8 text (byte {error.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableNotebook(
            f"{path} is not a notebook: invalid JSON ({error.msg} at line {error.lineno} "
            f"column {error.colno})"
        ) from None


def _check_format(path: Path, document: Any) -> None:
    if not isinstance(document, dict) or "nbformat" not in document:
        raise UnreadableNotebook(f"{path} is not a notebook: no 'nbformat' field")
    version = document["nbformat"]
    if version != 4:
        raise UnreadableNotebook(
            f"{path} uses nbformat {version!r}; only nbformat 4 is read "
            "(open and save it with a current Jupyter to convert it)"
        )
    if not isinstance(document.get("cells"), list):
        raise UnreadableNotebook(f"{path} is not a notebook: 'cells' is not a list")
    language = _kernel_language(document.get("metadata"))
    if language is not None and language.lower() != "python":
        raise UnreadableNotebook(
            f"{path} is a {language} notebook; only Python notebooks can be checked"
        )


def _kernel_language(metadata: Any) -> str | None:
    if not isinstance(metadata, dict):
        return None
    for section, key in (("kernelspec", "language"), ("language_info", "name")):
        block = metadata.get(section)
        value = block.get(key) if isinstance(block, dict) else None
        if isinstance(value, str):
            return value
    return None


def _parse_cell(path: Path, number: int, raw: Any) -> Cell:
    where = f"{path} cell {number}"
    if not isinstance(raw, dict):
        raise UnreadableNotebook(f"{where} is not a JSON object")
    kind = raw.get("cell_type")
    if kind not in _CELL_KINDS:
        raise UnreadableNotebook(f"{where} has an unknown cell_type {kind!r}")
    count = raw.get("execution_count") if kind == "code" else None
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        raise UnreadableNotebook(f"{where}: execution_count {count!r} is not an integer")
    return Cell(
        number=number,
        kind=kind,
        source=_source_text(where, raw.get("source", "")),
        execution_count=count,
        tags=_tags(where, raw.get("metadata")),
    )


def _source_text(where: str, source: Any) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise UnreadableNotebook(f"{where}: source is neither a string nor a list of strings")


def _tags(where: str, metadata: Any) -> tuple[str, ...]:
    if not isinstance(metadata, dict) or "tags" not in metadata:
        return ()
    tags = metadata["tags"]
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise UnreadableNotebook(f"{where}: metadata.tags is not a list of strings")
    return tuple(tags)
