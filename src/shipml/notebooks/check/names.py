"""Where each global name of a notebook is bound, and how: the index the name checks use."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shipml.notebooks.check.analysis import CellFlow
from shipml.notebooks.check.events import BindingKind

_CONSTANT_NAME = re.compile(r"[A-Z][A-Z0-9_]+")  # SEED, N_FOLDS; not X (a feature matrix)
_IPYTHON_NAMES = frozenset(
    {"display", "get_ipython", "In", "Out", "_", "__", "___", "_i", "_ii", "_iii", "_ih",
     "_oh", "_dh"}
)  # fmt: skip
_IPYTHON_NUMBERED = re.compile(r"_i?\d+")
_CALLABLE_KINDS: frozenset[BindingKind] = frozenset({"import", "function", "class"})


def is_ipython_name(name: str) -> bool:
    """True for names IPython puts in a notebook's namespace (`display`, `In`, `_3`, ...)."""
    return name in _IPYTHON_NAMES or bool(_IPYTHON_NUMBERED.fullmatch(name))


@dataclass(frozen=True)
class NameIndex:
    """Which cells bind each name and with what kinds of value, over the whole notebook."""

    bound_in: dict[str, list[int]]
    kinds: dict[str, set[BindingKind]]
    changed_in_place: set[str]

    @classmethod
    def of(cls, flows: Sequence[CellFlow]) -> NameIndex:
        """Index the bindings and in-place changes of `flows`."""
        bound_in: dict[str, list[int]] = {}
        kinds: dict[str, set[BindingKind]] = {}
        changed: set[str] = set()
        for flow in flows:
            for name in flow.writes:
                bound_in.setdefault(name, []).append(flow.cell)
                kinds.setdefault(name, set()).update(flow.bindings.get(name, {"value"}))
            changed |= flow.mutations
            for definition in flow.definitions.values():
                changed |= definition.mutates.keys()
                for name in definition.rebinds:  # bound when the function is called
                    bound_in.setdefault(name, []).append(flow.cell)
                    kinds.setdefault(name, set()).add("value")
        return cls(bound_in, kinds, changed)

    def is_bound(self, name: str) -> bool:
        """True when some cell binds `name`."""
        return name in self.bound_in

    def first_binding_from(self, name: str, cell: int) -> int | None:
        """The first cell at or below `cell` that binds `name`."""
        return next((c for c in self.bound_in.get(name, []) if c >= cell), None)

    def bound_before(self, name: str, cell: int) -> bool:
        """True when a cell above `cell` binds `name`."""
        return any(c < cell for c in self.bound_in.get(name, []))

    def is_module(self, name: str) -> bool:
        """True when every binding of `name` is an import."""
        return self.kinds.get(name) == {"import"}

    def is_data(self, name: str) -> bool:
        """True for a bound name holding data (not only imports, functions, classes, constants)."""
        kinds = self.kinds.get(name)
        if not kinds or kinds <= _CALLABLE_KINDS:
            return False
        constant = kinds == {"literal"} and name not in self.changed_in_place
        return not (_CONSTANT_NAME.fullmatch(name) or constant)
