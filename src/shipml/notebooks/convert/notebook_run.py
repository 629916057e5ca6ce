"""A sketched notebook together with the values its run produced, and the problems found so far."""

from __future__ import annotations

from typing import Any

from shipml.notebooks.convert.capture import Captured
from shipml.notebooks.convert.sketch import Sketch
from shipml.notebooks.convert.slicing import ModuleCode
from shipml.notebooks.errors import Blocker, NotConvertible


class NotebookRun:
    """Look up what a name held after a section; collect the reasons the conversion must stop."""

    def __init__(self, sketch: Sketch, captured: Captured) -> None:
        self.sketch = sketch
        self.captured = captured
        self.module = ModuleCode.of(s for cell in sketch.statements.values() for s in cell)
        self.train_position = sketch.group_position(sketch.fit.statement.cell)
        self.read_position = sketch.group_position(sketch.data_read.statement.cell)
        self.blockers: list[Blocker] = []

    def block(self, cell: int, line: int | None, reason: str) -> None:
        """Note a reason the notebook cannot be converted."""
        self.blockers.append(Blocker(cell, line, reason))

    def stop_if_blocked(self) -> None:
        """Raise NotConvertible with every reason noted so far, if there is one."""
        if self.blockers:
            raise NotConvertible(sorted(self.blockers, key=lambda b: (b.cell, b.line or 0)))

    def value(self, name: str, position: int) -> Any:
        """What `name` held at the end of section `position` (None when it was not saved)."""
        bound = self.bound_last_in(name, position)
        if bound is None:
            return None
        if bound == self.read_position and self._read_binds_last(name):
            return self.raw_frame()
        last_cell = self.sketch.groups[bound].cells[-1]
        return self.captured.snapshots.get(last_cell, {}).get(name)

    def input_value(self, name: str, position: int) -> Any:
        """What `name` held when section `position` started (the data as read, for the
        statements after the read in its own section)."""
        if position == self.read_position:
            return self.raw_frame() if name == self.sketch.data_read.name else None
        return self.value(name, position - 1)

    def raw_frame(self) -> Any:
        """The data as the notebook read it."""
        read = self.sketch.data_read
        return self.captured.snapshots.get(read.statement.cell, {}).get(read.name)

    def bound_last_in(self, name: str, position: int) -> int | None:
        """The last section at or before `position` that binds `name`."""
        for candidate in range(position, -1, -1):
            if any(name in s.binds for s in self.sketch.statements_in(candidate)):
                return candidate
        return None

    def _read_binds_last(self, name: str) -> bool:
        binders = [s for s in self.sketch.statements_in(self.read_position) if name in s.binds]
        return bool(binders) and binders[-1] is self.sketch.data_read.statement

    def describe(self, name: str, position: int) -> str:
        """The type of what `name` held after section `position`, for a message."""
        value = self.value(name, position)
        return type(value).__name__ if value is not None else "a value that could not be saved"

    def section(self, position: int) -> str:
        """A section's heading or tag, or its cells when it has neither."""
        group = self.sketch.groups[position]
        return group.name or f"cells {group.cells[0]}-{group.cells[-1]}"

    def first_cell(self, position: int) -> int:
        """The first code cell of section `position`."""
        return self.sketch.groups[position].cells[0]
