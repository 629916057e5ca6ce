"""Names for cells and groups of cells: `step:NAME` tags and markdown headings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from shipml.notebooks.check.cells import Cell, Notebook

STEP_TAG_PREFIX = "step:"
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_NAME_WIDTH = 60


@dataclass(frozen=True)
class CellGroup:
    """Consecutive code cells under one markdown heading or sharing one `step:NAME` tag."""

    name: str | None
    """The heading text or the tag's NAME; None for code cells before any heading or tag."""
    origin: Literal["heading", "tag", "top"]
    cells: tuple[int, ...]
    """The code cells' 1-based positions in the notebook."""


def step_tag(cell: Cell) -> str | None:
    """NAME from the cell's first `step:NAME` tag, if it has one."""
    for tag in cell.tags:
        if tag.startswith(STEP_TAG_PREFIX) and tag[len(STEP_TAG_PREFIX) :].strip():
            return tag[len(STEP_TAG_PREFIX) :].strip()
    return None


def heading_of(cell: Cell) -> str | None:
    """The text of the first heading in a markdown cell (`## Load data` -> `Load data`)."""
    if cell.kind != "markdown":
        return None
    for line in cell.source.splitlines():
        match = _HEADING.match(line)
        if match:
            return match["title"]
    return None


def cell_name(cell: Cell) -> str:
    """A short name to recognise a cell by: its step tag, its heading or its first line."""
    tag = step_tag(cell)
    if tag is not None:
        return f"{STEP_TAG_PREFIX}{tag}"
    heading = heading_of(cell)
    if heading is not None:
        return heading
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return first if len(first) <= _NAME_WIDTH else first[: _NAME_WIDTH - 1] + "…"


def sections_of(notebook: Notebook) -> dict[int, str | None]:
    """For each cell, the text of the nearest markdown heading above it (None if there is none)."""
    current: str | None = None
    sections: dict[int, str | None] = {}
    for cell in notebook.cells:
        current = heading_of(cell) or current
        sections[cell.number] = current
    return sections


def group_cells(notebook: Notebook) -> list[CellGroup]:
    """Code cells grouped by `step:NAME` tags and markdown headings, top to bottom.

    A heading starts a group; a code cell tagged `step:NAME` starts one unless the group
    in progress is that same tag; untagged code cells join the group in progress.
    """
    groups: list[CellGroup] = []
    name: str | None = None
    origin: Literal["heading", "tag", "top"] = "top"
    members: list[int] = []
    for cell in notebook.cells:
        heading, tag = heading_of(cell), step_tag(cell) if cell.is_code else None
        if heading is not None or (tag is not None and (origin, name) != ("tag", tag)):
            if members:
                groups.append(CellGroup(name, origin, tuple(members)))
            name, members = heading or tag, []
            origin = "heading" if heading is not None else "tag"
        if cell.is_code and not cell.is_blank:
            members.append(cell.number)
    if members:
        groups.append(CellGroup(name, origin, tuple(members)))
    return groups
