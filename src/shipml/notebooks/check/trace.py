"""Follow the notebook's global names through a top-to-bottom run, without running it.

Each read is matched with the cell whose binding it would see. Calling (or otherwise
using) a function defined in the notebook reads, at that moment, the globals its body reads,
so those reads are attributed to the cell that uses the function.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass

from shipml.notebooks.check.analysis import CellFlow
from shipml.notebooks.check.definitions import DefinitionFlow

# Names every module has without binding them.
ALWAYS_DEFINED = frozenset(dir(builtins)) | {"__builtins__", "__annotations__"}


@dataclass(frozen=True)
class Use:
    """A cell reading a global name that it did not bind itself, in a top-to-bottom run."""

    name: str
    cell: int
    line: int
    source: int | None
    """The cell whose binding the read sees; None when no cell above (or this one) bound it."""
    via: str | None = None
    """The notebook function or class whose body does the read when this cell uses it."""
    deleted_in: int | None = None
    """When the name was bound and then deleted above: the cell with the `del`."""


def trace_uses(flows: Sequence[CellFlow]) -> list[Use]:
    """Every read of a global name bound outside the reading cell, top to bottom.

    A read is listed once per cell, binding and function it goes through (at its first line).
    """
    run = _Run()
    for flow in flows:
        run.execute(flow)
    return run.uses


class _Run:
    def __init__(self) -> None:
        self.uses: list[Use] = []
        self._bound_in: dict[str, int] = {}
        self._deleted_in: dict[str, int] = {}
        self._definitions: dict[str, DefinitionFlow] = {}
        self._recorded: set[tuple[str, int, int | None, str | None, int | None]] = set()

    def execute(self, flow: CellFlow) -> None:
        for event in flow.events:
            if event.action == "read":
                self._read(event.name, flow.cell, event.line, via=None)
                self._call(event.name, flow.cell, event.line, expanded=set())
            elif event.action == "write":
                self._bind(event.name, flow.cell)
                definition = flow.definitions.get(event.name)
                if definition is not None and definition.line == event.line:
                    self._definitions[event.name] = definition
            elif event.action == "delete":
                self._read(event.name, flow.cell, event.line, via=None)
                self._bound_in.pop(event.name, None)
                self._definitions.pop(event.name, None)
                self._deleted_in[event.name] = flow.cell

    def _bind(self, name: str, cell: int) -> None:
        self._bound_in[name] = cell
        self._deleted_in.pop(name, None)
        self._definitions.pop(name, None)

    def _read(self, name: str, cell: int, line: int, via: str | None) -> None:
        source = self._bound_in.get(name)
        if source == cell:
            return
        if source is None and name in ALWAYS_DEFINED and name not in self._deleted_in:
            return
        use = Use(name, cell, line, source, via, self._deleted_in.get(name))
        key = (name, cell, source, via, use.deleted_in)
        if key not in self._recorded:  # the same read again adds nothing
            self._recorded.add(key)
            self.uses.append(use)

    def _call(self, name: str, cell: int, line: int, expanded: set[str]) -> None:
        """Using a notebook function or class runs the reads (and `global` writes) of its body.

        Each function is expanded once per use, however many paths of calls lead to it.
        """
        definition = self._definitions.get(name)
        if definition is None or name in expanded:
            return
        expanded.add(name)
        for read in definition.reads:
            self._read(read, cell, line, via=definition.name)
            self._call(read, cell, line, expanded)
        for rebound in definition.rebinds:
            self._bind(rebound, cell)
