"""What `shipml notebook convert` will do with a notebook's ML code, said by `check` first.

The plan convert works from (`plan.py`) is made here too: what would stop the conversion is
reported as findings (traps), what the conversion rewrites or leaves out as notes, both under
the names convert uses. A notebook that fits no model gets neither.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from shipml.errors import NotConvertible
from shipml.notebooks.check.analysis import CellFlow
from shipml.notebooks.check.cells import Notebook
from shipml.notebooks.check.findings import Finding, FindingKind, FindingMaker
from shipml.notebooks.check.names import NameIndex
from shipml.notebooks.check.plan import Plan, plan_notebook
from shipml.notebooks.check.sections import group_cells
from shipml.notebooks.check.statements import calls_in, method_name
from shipml.notebooks.check.trace import trace_uses

FILE_WRITERS = frozenset(
    {
        "to_csv",
        "to_parquet",
        "to_pickle",
        "to_excel",
        "to_json",
        "to_feather",
        "to_hdf",
        "to_sql",
        "savefig",
        "dump",
        "save",
        "savez",
        "savetxt",
        "write_text",
        "write_bytes",
    }
)
_NOTE_KINDS = frozenset({FindingKind.NO_TRAINING_DATA, FindingKind.NO_SCORING})


def ml_findings(
    notebook: Notebook, flows: Sequence[CellFlow], make: FindingMaker
) -> tuple[list[Finding], list[Finding]]:
    """(findings, notes) about the notebook's data, model and preparation."""
    if not any(method_name(c) == "fit" for f in flows if f.tree for c in calls_in(f.tree)):
        return [], []
    notes = [*_file_writes(flows, make), *_mutations_across_cells(notebook, flows, make)]
    try:
        plan = plan_notebook(notebook)
    except NotConvertible as refusal:
        findings: list[Finding] = []
        for blocker in refusal.blockers:
            try:
                kind = FindingKind(blocker.kind)
            except ValueError:
                continue
            if kind in _CHECKED_ELSEWHERE:
                continue
            target = notes if kind in _NOTE_KINDS else findings
            target.append(make(kind, blocker.cell, blocker.reason, line=blocker.line))
        return findings, notes
    return [], [*notes, *_plan_notes(plan, make)]


# Blockers that repeat a finding the other rules already report (syntax errors, names).
_CHECKED_ELSEWHERE = frozenset(
    {
        FindingKind.SYNTAX_ERROR,
        FindingKind.UNDEFINED_NAME,
        FindingKind.USED_BEFORE_DEFINITION,
        FindingKind.USED_AFTER_DELETE,
        FindingKind.IPYTHON_NAME,
        FindingKind.FUNCTION_READS_GLOBAL,
        FindingKind.FUNCTION_MUTATES_GLOBAL,
        FindingKind.ABSOLUTE_PATH,
        FindingKind.STAR_IMPORT,
    }
)


def _plan_notes(plan: Plan, make: FindingMaker) -> Iterator[Finding]:
    in_model = {id(s) for s in plan.in_model}
    for statement in plan.prep:
        sites = plan.sites.get(id(statement), [])
        if sites and id(statement) in in_model:
            shown = ", ".join(f"`{ast.unparse(s.node)}`" for s in sites[:3])
            more = f" and {len(sites) - 3} more" if len(sites) > 3 else ""
            yield make(
                FindingKind.LEARNED_FROM_DATA,
                statement.cell,
                f"{shown}{more} learned from the data at hand: rows scored later with this code "
                "would get their own (training/serving skew); convert learns it in training and "
                "keeps it in the model",
                line=statement.line,
            )
        use = plan.label_uses.get(id(statement))
        if _renumbers(statement.node):
            yield make(
                FindingKind.ROWS_RENUMBERED,
                statement.cell,
                "`.reset_index(drop=True)` renumbers the rows: convert takes it out so that each "
                "row keeps the index its label and its prediction are joined by",
                line=statement.line,
            )
        if use == "drops":
            yield make(
                FindingKind.LABEL_DROPPED,
                statement.cell,
                f'drops the label `{plan.label}`: convert adds `errors="ignore"` (rows to score '
                "have no label)",
                line=statement.line,
            )
        elif use == "transforms":
            yield make(
                FindingKind.LABEL_TRANSFORMED,
                statement.cell,
                f"transforms the label `{plan.label}` in place: convert applies it once to the "
                "training data, which then holds the label as the model learns it",
                line=statement.line,
            )
        elif use == "filters":
            yield make(
                FindingKind.LABEL_FILTER,
                statement.cell,
                f"keeps rows by the label `{plan.label}`: convert runs it while training only "
                "(rows to score have no label)",
                line=statement.line,
            )
    if plan.split is not None:
        size = plan.split.test_size
        kept = f" (its test size {size} kept as the holdout fraction)" if size else ""
        yield make(
            FindingKind.SPLIT_REPLACED,
            plan.split.statement.cell,
            f"train/test split: convert replaces it by shipml's own holdout{kept}; `train` fits "
            "on all the rows it gets",
            line=plan.split.statement.line,
        )
    used_functions = plan.module.closure(n for s in plan.prep for n in s.reads)
    for name, statement in plan.module.definitions.items():
        if name in used_functions and _renumbers(statement.node):
            yield make(
                FindingKind.ROWS_RENUMBERED,
                statement.cell,
                f"`{name}` renumbers the rows (`.reset_index(drop=True)`): convert takes it out "
                "so that each row keeps the index its label and its prediction are joined by",
                line=statement.line,
            )
    if _picks_rows(plan):
        yield make(
            FindingKind.ROWS_PICKED,
            plan.scoring.cell,
            "the last predictions are cut by position (`[:10]`, `.head()`): convert's predict "
            "step scores every row it gets",
            line=plan.scoring.statement.line,
        )
    others = sorted({f.model for f in plan.fits} - {plan.model})
    if others:
        yield make(
            FindingKind.OTHER_MODELS,
            plan.fit.statement.cell,
            f"{len(others) + 1} models fitted: `{plan.model}` makes the last predictions (cell "
            f"{plan.scoring.cell}); convert trains it and lists "
            + ", ".join(f"`{m}`" for m in others),
            line=plan.fit.statement.line,
            names=[plan.model, *others],
        )
    used = {n for s in [*plan.prep, *plan.model_code] for n in s.reads}
    for name, statement in plan.module.definitions.items():
        if isinstance(statement.node, ast.ClassDef) and name in plan.module.closure(used):
            yield make(
                FindingKind.CLASS_MOVED,
                statement.cell,
                f"class `{name}` is defined in the notebook: convert moves it into "
                "notebook_code.py in the project, where the fitted model finds it",
                line=statement.line,
                names=[name],
            )


def _renumbers(node: ast.AST) -> bool:
    """A `.reset_index(drop=True)` call in `node`."""
    return any(
        method_name(call) == "reset_index"
        and any(
            k.arg == "drop" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in call.keywords
        )
        for call in calls_in(node)
    )


def _picks_rows(plan: Plan) -> bool:
    """The last scoring call's result cut by position: `model.predict(X)[:10]`, `.head()`."""
    call = plan.scoring.call
    for node in ast.walk(plan.scoring.statement.node):
        if isinstance(node, ast.Subscript) and node.value is call:
            return isinstance(node.slice, ast.Slice)
        if isinstance(node, ast.Attribute) and node.value is call:
            return node.attr in ("head", "tail")
    return False


def _file_writes(flows: Sequence[CellFlow], make: FindingMaker) -> Iterator[Finding]:
    for flow in flows:
        if flow.tree is None:
            continue
        lines = sorted({c.lineno for c in calls_in(flow.tree) if method_name(c) in FILE_WRITERS})
        if lines:
            yield make(
                FindingKind.FILE_WRITE,
                flow.cell,
                "writes a file (a submission, a model pickle): convert leaves it out of the "
                "pipeline (shipml writes each batch window's output and registers the model)",
                line=lines[0],
            )


def _mutations_across_cells(
    notebook: Notebook, flows: Sequence[CellFlow], make: FindingMaker
) -> Iterator[Finding]:
    """Names changed in place (or deleted) in a later cell than the one binding them, whose
    readers in between see one value or the other: one note per cell, listing the names."""
    index = NameIndex.of(flows)
    readers: dict[str, set[int]] = {}
    for use in trace_uses(flows):
        if use.source is not None:
            readers.setdefault(use.name, set()).add(use.cell)
    section_of = {c: p for p, g in enumerate(group_cells(notebook)) for c in g.cells}
    for flow in flows:
        bound_here: set[str] = set()
        changed: dict[str, int] = {}
        for event in flow.events:
            if event.action == "write":
                bound_here.add(event.name)
            name = event.name
            if (
                event.action in ("mutate", "delete")
                and name not in bound_here
                and name not in changed
                and not index.is_module(name)
                and index.bound_before(name, flow.cell)
            ):
                first = index.bound_in[name][0]
                between = any(first < c < flow.cell for c in readers.get(name, ()))
                if between or section_of.get(first) != section_of.get(flow.cell):
                    changed[name] = event.line
        if changed:
            names = sorted(changed)
            yield make(
                FindingKind.MUTATED_ACROSS_CELLS,
                flow.cell,
                f"changes {', '.join(f'`{n}`' for n in names)} in place, bound in a cell above: "
                "the cells in between see one value or the other depending on what ran; "
                "convert makes each section a step that takes the table and returns it",
                line=min(changed.values()),
                names=names,
            )
