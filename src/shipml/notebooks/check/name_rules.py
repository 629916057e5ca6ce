"""Traps in how cells share global names: undefined, too early, redefined, read by functions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from shipml.notebooks.check.analysis import CellFlow
from shipml.notebooks.check.definitions import DefinitionFlow
from shipml.notebooks.check.events import Action, StarImport
from shipml.notebooks.check.findings import Finding, FindingKind, FindingMaker
from shipml.notebooks.check.names import NameIndex, is_ipython_name
from shipml.notebooks.check.trace import ALWAYS_DEFINED, Use, trace_uses


def name_findings(flows: Sequence[CellFlow], make: FindingMaker) -> list[Finding]:
    """Findings about names: undefined, used too early or after `del`, redefined, globals."""
    return _NameChecks(flows, make).findings()


class _NameChecks:
    def __init__(self, flows: Sequence[CellFlow], make: FindingMaker) -> None:
        self._flows = flows
        self._make = make
        self._index = NameIndex.of(flows)
        self._uses = trace_uses(flows)
        self._stars = [(flow.cell, star) for flow in flows for star in flow.star_imports]
        self._from_star: dict[tuple[int, StarImport], set[str]] = {s: set() for s in self._stars}

    def findings(self) -> list[Finding]:
        found = [
            *self._unresolved_uses(),
            *self._unresolved_in_definitions(),
            *self._redefinitions(),
            *self._function_globals(),
        ]
        return found + list(self._star_imports())  # last: the others attribute names to them

    # -- names no cell above binds -------------------------------------------------------------

    def _unresolved_uses(self) -> Iterator[Finding]:
        reported: set[tuple[int, str]] = set()
        for use in self._uses:
            if use.source is not None or (use.cell, use.name) in reported:
                continue
            finding = self._unresolved(use)
            if finding is not None:
                reported.add((use.cell, use.name))
                yield finding

    def _unresolved(self, use: Use) -> Finding | None:
        name, via = use.name, f" through `{use.via}`" if use.via else ""
        if use.deleted_in is not None:
            deleter = "this cell" if use.deleted_in == use.cell else f"cell {use.deleted_in}"
            return self._at(
                FindingKind.USED_AFTER_DELETE,
                use,
                f"`{name}` is read here{via} after {deleter} deleted it with `del`",
            )
        if self._index.is_bound(name):
            return self._at(FindingKind.USED_BEFORE_DEFINITION, use, self._too_early(use, via))
        if use.via is not None:
            return None  # reported where the function reads it
        if is_ipython_name(name):
            return self._at(FindingKind.IPYTHON_NAME, use, _ipython_message(name))
        if self._attribute_to_stars(name, use.cell, use.line):
            return None
        return self._at(FindingKind.UNDEFINED_NAME, use, self._undefined_message(name, use.cell))

    def _too_early(self, use: Use, via: str) -> str:
        later = self._index.first_binding_from(use.name, use.cell)
        if later == use.cell:
            where = "before this cell binds it"
        else:
            where = f"but first bound in cell {later} below" if later else "before it is bound"
        return f"`{use.name}` is read here{via} {where}: a top-to-bottom run fails with NameError"

    def _unresolved_in_definitions(self) -> Iterator[Finding]:
        for flow in self._flows:
            for definition in flow.definitions.values():
                for name, line in definition.reads.items():
                    if self._index.is_bound(name) or name in ALWAYS_DEFINED:
                        continue
                    finding = self._unresolved_in(flow.cell, definition, name, line)
                    if finding is not None:
                        yield finding

    def _unresolved_in(
        self, cell: int, definition: DefinitionFlow, name: str, line: int
    ) -> Finding | None:
        reader = f"`{definition.name}`"
        if is_ipython_name(name):
            message = f"{_ipython_message(name)} (read by {reader})"
            return self._make(FindingKind.IPYTHON_NAME, cell, message, line=line, names=[name])
        if self._attribute_to_stars(name, cell, definition.line):
            return None
        message = f"{self._undefined_message(name, cell)} (read by {reader})"
        return self._make(FindingKind.UNDEFINED_NAME, cell, message, line=line, names=[name])

    def _attribute_to_stars(self, name: str, cell: int, line: int) -> bool:
        """Credit `name` to the star imports above `line` of `cell`; False if there are none."""
        above = [
            key for key in self._stars if key[0] < cell or (key[0] == cell and key[1].line < line)
        ]
        for key in above:
            self._from_star[key].add(name)
        return bool(above)

    def _undefined_message(self, name: str, cell: int) -> str:
        message = (
            f"`{name}` is read but no cell defines it (a cell that did may have been deleted "
            "or edited while its value lived on in the kernel)"
        )
        broken = [f.cell for f in self._flows if f.syntax_error is not None and f.cell != cell]
        runs = [f.cell for f in self._flows if any(i.command == "%run" for i in f.ipython)]
        if broken:
            message += f"; {_cells(broken)} could not be parsed and may define it"
        if runs:
            message += f"; `%run` in {_cells(runs)} may define it"
        return message

    def _star_imports(self) -> Iterator[Finding]:
        for cell, star in self._stars:
            names = sorted(self._from_star[(cell, star)])
            message = f"`from {star.module} import *` hides which names the notebook uses"
            if names:
                message += (
                    f"; no cell defines {_quoted(names)}, which presumably come from it: "
                    "import them by name"
                )
            yield self._make(FindingKind.STAR_IMPORT, cell, message, line=star.line, names=names)

    # -- names changed after other cells read them ---------------------------------------------

    def _redefinitions(self) -> Iterator[Finding]:
        readers: dict[str, set[int]] = {}
        for use in self._uses:
            readers.setdefault(use.name, set()).add(use.cell)
        for flow in self._flows:
            changed = flow.writes | flow.mutations | flow.deletes
            for name in sorted(changed, key=lambda n: (flow.first_line(n, *_CHANGES) or 0, n)):
                if self._index.is_module(name) or not self._index.bound_before(name, flow.cell):
                    continue
                first = self._index.bound_in[name][0]
                earlier = sorted(c for c in readers.get(name, ()) if first < c < flow.cell)
                if earlier:
                    yield self._redefinition(flow, name, earlier)

    def _redefinition(self, flow: CellFlow, name: str, readers: list[int]) -> Finding:
        line = flow.first_line(name, *_CHANGES)
        action = next(e.action for e in flow.events if e.name == name and e.action in _CHANGES)
        verb = {"write": "rebinds", "mutate": "changes", "delete": "deletes"}[action]
        one = len(readers) == 1
        rerun = f"re-running {'that cell' if one else 'those cells'} now"
        if action == "delete":
            effect = f"{rerun} fails with NameError"
        else:
            effect = (
                f"{rerun} gives {'it' if one else 'them'} a different `{name}` than a "
                "top-to-bottom run does"
            )
        message = f"{verb} `{name}` after {_cells(readers)} above read it: {effect}"
        return self._make(
            FindingKind.REDEFINED_AFTER_USE, flow.cell, message, line=line, names=[name]
        )

    # -- functions that depend on globals ------------------------------------------------------

    def _function_globals(self) -> Iterator[Finding]:
        for flow in self._flows:
            for definition in flow.definitions.values():
                yield from self._globals_of(flow.cell, definition)

    def _globals_of(self, cell: int, definition: DefinitionFlow) -> Iterator[Finding]:
        what = f"{definition.kind} `{definition.name}`"
        changes = {**definition.rebinds, **definition.mutates}
        changed = [n for n in changes if not self._index.is_module(n)]
        if changed:
            yield self._make(
                FindingKind.FUNCTION_MUTATES_GLOBAL,
                cell,
                f"{what} changes the global {_quoted(changed)}: calling it changes state "
                "outside it; take the value as a parameter and return the result instead",
                line=min(changes[n] for n in changed),
                names=changed,
            )
        read = [n for n in definition.reads if self._index.is_data(n) and n not in changed]
        if read:
            bound = sorted({c for n in read for c in self._index.bound_in[n]})
            yield self._make(
                FindingKind.FUNCTION_READS_GLOBAL,
                cell,
                f"{what} reads the global {_quoted(read)} (bound in {_cells(bound)}): its "
                "result depends on what ran before the call; "
                + ("pass it as a parameter" if len(read) == 1 else "pass them as parameters"),
                line=min(definition.reads[n] for n in read),
                names=read,
            )

    def _at(self, kind: FindingKind, use: Use, message: str) -> Finding:
        return self._make(kind, use.cell, message, line=use.line, names=[use.name])


_CHANGES: tuple[Action, ...] = ("write", "mutate", "delete")


def _ipython_message(name: str) -> str:
    return f"`{name}` is provided by IPython; a plain Python pipeline does not have it"


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _cells(cells: Sequence[int]) -> str:
    return ("cell " if len(cells) == 1 else "cells ") + ", ".join(str(c) for c in cells)
