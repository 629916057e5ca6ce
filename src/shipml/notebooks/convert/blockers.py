"""What keeps cells from becoming pure step functions, found without running the notebook.

The converter refuses a notebook with any of these and names each cell and the reason;
it never guesses its way around them.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from shipml.notebooks.check.analysis import CellFlow
from shipml.notebooks.check.cells import Notebook
from shipml.notebooks.check.checks import check_notebook
from shipml.notebooks.check.events import NameEvent
from shipml.notebooks.check.findings import FindingKind
from shipml.notebooks.check.names import NameIndex
from shipml.notebooks.check.sections import CellGroup
from shipml.notebooks.check.trace import trace_uses
from shipml.notebooks.convert.statements import calls_in, method_name, receiver_root
from shipml.notebooks.errors import Blocker

# Findings of `shipml notebook check` that make a cell impossible to convert as it is. The
# saved execution counts do not matter here: the converter runs the notebook itself, and
# rebinding a name in a later cell is ordinary data flow between steps.
BLOCKING_FINDINGS = frozenset(
    {FindingKind.SYNTAX_ERROR, FindingKind.UNDEFINED_NAME, FindingKind.USED_BEFORE_DEFINITION,
     FindingKind.USED_AFTER_DELETE, FindingKind.IPYTHON_NAME, FindingKind.FUNCTION_READS_GLOBAL,
     FindingKind.FUNCTION_MUTATES_GLOBAL, FindingKind.ABSOLUTE_PATH, FindingKind.STAR_IMPORT,
     FindingKind.MAGIC, FindingKind.SHELL_COMMAND}
)  # fmt: skip
FILE_WRITING_METHODS = frozenset(
    {"to_csv", "to_parquet", "to_pickle", "to_excel", "to_json", "to_feather", "to_hdf",
     "to_sql", "to_stata", "to_html", "savefig", "dump", "save", "savez", "savetxt",
     "write_text", "write_bytes", "unlink", "rmdir", "mkdir", "makedirs", "copyfile",
     "rmtree", "touch"}
)  # fmt: skip
# Calls of the os and shutil modules that change files (`os.remove`, `shutil.move`, ...).
_FILE_MODULE_CALLS = frozenset({"remove", "rename", "replace", "move", "copy", "copy2"})
_WRITE_MODES = frozenset("wax+")


def static_blockers(
    notebook: Notebook, flows: Sequence[CellFlow], groups: Sequence[CellGroup]
) -> list[Blocker]:
    """The blockers found in the cells' source, top to bottom."""
    found = [
        Blocker(f.cell, f.line, f"{f.kind.value}: {f.message}")
        for f in check_notebook(notebook).findings
        if f.kind in BLOCKING_FINDINGS
    ]
    found += file_writes(flows)
    found += changes_across_cells(flows, groups)
    return sorted(found, key=lambda b: (b.cell, b.line or 0, b.reason))


def file_writes(flows: Sequence[CellFlow]) -> list[Blocker]:
    """Calls that write, move or delete files, in a cell's code or its functions."""
    found = []
    for flow in flows:
        if flow.tree is None:
            continue
        for call in calls_in(flow.tree):
            what = _file_effect(call)
            if what is not None:
                found.append(
                    Blocker(
                        flow.cell,
                        call.lineno,
                        f"{what}: a step must not have side effects on files (shipml writes "
                        "each window's output itself); move it out of the notebook's pipeline",
                    )
                )
    return found


def changes_across_cells(flows: Sequence[CellFlow], groups: Sequence[CellGroup]) -> list[Blocker]:
    """Globals mutated across cells: an in-place change (or `del`) of a name that an earlier
    section bound (a step would change its input), or that cells in between have read (their
    results depend on whether they ran before or after the change)."""
    index = NameIndex.of(flows)
    readers: dict[str, set[int]] = {}
    for use in trace_uses(flows):
        if use.source is not None:
            readers.setdefault(use.name, set()).add(use.cell)
    section_of = {cell: position for position, group in enumerate(groups) for cell in group.cells}
    found = []
    for flow in flows:
        skipped: set[str] = set()  # bound earlier in this cell, or reported already
        for event in flow.events:
            name = event.name
            if event.action == "write":
                skipped.add(name)
            if (
                event.action not in ("mutate", "delete")
                or name in skipped
                or index.is_module(name)
                or not index.bound_before(name, flow.cell)
            ):
                continue
            first = index.bound_in[name][0]
            in_between = sorted(c for c in readers.get(name, ()) if first < c < flow.cell)
            earlier_section = section_of.get(first) != section_of.get(flow.cell)
            if earlier_section or in_between:
                skipped.add(name)
                found.append(_mutation(flow.cell, event, first, in_between, earlier_section))
    return found


def _mutation(
    cell: int, event: NameEvent, first: int, readers: list[int], earlier_section: bool
) -> Blocker:
    verb = "deletes" if event.action == "delete" else "changes"
    if earlier_section:
        why = f"bound in cell {first}, in an earlier section: a step would change its input"
    else:
        shown = ", ".join(str(c) for c in readers)
        why = (
            f"bound in cell {first} and read since by cell{'s' if len(readers) > 1 else ''} {shown}"
        )
    fix = (
        "leave it alone (drop the `del`)"
        if event.action == "delete"
        else f"work on a copy (`{event.name} = {event.name}.copy()`) or bind a new name"
    )
    return Blocker(
        cell,
        event.line,
        f"{verb} `{event.name}` ({why}): a global mutated across cells cannot be converted; " + fix,
    )


def _file_effect(call: ast.Call) -> str | None:
    method = method_name(call)
    module = receiver_root(call)
    if method in _FILE_MODULE_CALLS and module in ("os", "shutil"):
        return f"`{module}.{method}(...)` changes files"
    if method in FILE_WRITING_METHODS:
        return f"`.{method}(...)` writes or changes files"
    if isinstance(call.func, ast.Name) and call.func.id == "open" and _writing_mode(call):
        return "`open(...)` for writing"
    return None


def _writing_mode(call: ast.Call) -> bool:
    mode = call.args[1] if len(call.args) > 1 else None
    for keyword in call.keywords:
        if keyword.arg == "mode":
            mode = keyword.value
    if mode is None:
        return False
    if isinstance(mode, ast.Constant) and isinstance(mode.value, str):
        return bool(_WRITE_MODES & set(mode.value))
    return True  # a computed mode may write
