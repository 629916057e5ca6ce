"""The static part of a conversion: what each statement of the notebook becomes, before it runs.

From the code alone: where the data comes from, which of the models fitted in turn is the one
kept (the one making the notebook's last predictions), and, followed backwards from that fit,
the statements its input (`X`) and label (`y`) depend on: the *preparation*. Its leading
sections that only reshape rows (no statistic learned, no estimator fitted, no label read)
become transforms; the rest runs inside the model, so that training and scoring share it.
Everything else (looking at the data, plots, other models, evaluation, submissions, files
written) is left out and listed.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from shipml.errors import Blocker, NotConvertible
from shipml.notebooks.check.analysis import CellFlow, analyse_notebook
from shipml.notebooks.check.blockers import kept_code_blockers, syntax_blockers
from shipml.notebooks.check.cells import Notebook
from shipml.notebooks.check.findings import FindingKind, FindingMaker
from shipml.notebooks.check.kept_model import fit_of, kept_model
from shipml.notebooks.check.label_column import label_column
from shipml.notebooks.check.labels import LabelUse, label_line, label_use
from shipml.notebooks.check.name_rules import name_findings
from shipml.notebooks.check.names import NameIndex
from shipml.notebooks.check.roles import (
    DataSource,
    DataSplit,
    ModelFit,
    Scoring,
    find_fits,
    find_scorings,
    find_source,
    find_splits,
)
from shipml.notebooks.check.sections import CellGroup, group_cells
from shipml.notebooks.check.sites import BatchDependent, Site, batch_dependent, find_sites
from shipml.notebooks.check.slicing import ModuleCode, slice_statements
from shipml.notebooks.check.source_rules import source_findings
from shipml.notebooks.check.statements import Statement, statements_of
from shipml.notebooks.check.trace import ALWAYS_DEFINED

# Names the generated steps module binds itself; the notebook's kept code must leave them free.
GENERATED_NAMES = frozenset(
    {
        "LABEL",
        "FEATURE_COLUMNS",
        "FIELD_NAMES",
        "NOTEBOOK_NAMES",
        "Table",
        "step",
        "Any",
        "learned",
        "prepare",
        "Learned",
        "NotebookModel",
        "Prepared",
        "train",
        "predict",
    }
)


@dataclass
class Plan:
    """What the notebook's statements become, found from the code alone."""

    notebook: Notebook
    flows: tuple[CellFlow, ...]
    groups: list[CellGroup]
    statements: list[Statement]
    index: NameIndex
    imports: dict[str, str]
    module: ModuleCode
    source: DataSource
    fits: list[ModelFit]
    fit: ModelFit
    model: str
    scoring: Scoring
    """The call making the notebook's last predictions with the kept model."""
    scorings: list[Scoring]
    """Every scoring call after the first fit."""
    label: str | None
    """The column the model learns, when the code names it (a dataset's `y` may not)."""
    prep: list[Statement]
    """The preparation: the statements the fit's input and label depend on, in order."""
    label_only: set[int] = field(default_factory=set)
    """ids of preparation statements that only make the label (run while training only)."""
    label_uses: dict[int, LabelUse] = field(default_factory=dict)
    model_code: list[Statement] = field(default_factory=list)
    """Statements the model object itself needs (its construction, its fit)."""
    split: DataSplit | None = None
    transform_groups: list[int] = field(default_factory=list)
    """Positions of the sections whose preparation statements become transforms."""
    sites: dict[int, list[Site]] = field(default_factory=dict)
    """The learning places of each preparation statement, by statement id."""
    data_names: frozenset[str] = frozenset()

    def group_of(self, statement: Statement) -> int:
        """The position of the section holding `statement`."""
        return next(i for i, g in enumerate(self.groups) if statement.cell in g.cells)

    @property
    def in_model(self) -> list[Statement]:
        """The preparation statements that run inside the model (not in transforms)."""
        return [s for s in self.prep if self.group_of(s) not in self.transform_groups]

    def in_group(self, position: int) -> list[Statement]:
        """The preparation statements of section `position`."""
        return [s for s in self.prep if self.group_of(s) == position]


def plan_notebook(notebook: Notebook) -> Plan:
    """What each statement of `notebook` becomes; NotConvertible with the reasons otherwise."""
    flows = analyse_notebook(notebook)
    groups = group_cells(notebook)
    blocking = syntax_blockers(flows)
    if blocking:
        raise NotConvertible(blocking)
    index = NameIndex.of(flows)
    by_cell = {flow.cell: statements_of(flow, index) for flow in flows}
    ordered = [s for flow in flows for s in by_cell[flow.cell]]
    imports = {name: module for flow in flows for name, module in flow.imports.items()}
    module = ModuleCode.of(ordered)
    first_cell = flows[0].cell if flows else 1
    source = find_source(ordered, imports)
    if source is None:
        _refuse(
            first_cell,
            None,
            "no cell reads the training data: read a file with pandas "
            '(`df = pd.read_csv("data.csv")`, a path relative to the notebook) or load one of '
            "scikit-learn's datasets (`load_wine(as_frame=True)`)",
            FindingKind.NO_TRAINING_DATA,
        )
    after_source = ordered[ordered.index(source.ingest[-1]) + 1 :]
    fits = find_fits(after_source)
    if not fits:
        _refuse(
            first_cell,
            None,
            "no cell fits a model (`model.fit(X, y)`): nothing to train",
            FindingKind.NO_SCORING,
        )
    scorings = [s for s in find_scorings(after_source) if _after(s.statement, fits[0].statement)]
    model, scoring = kept_model(fits, scorings, ordered)
    fit = fit_of(fits, model, scoring, ordered)
    window = [s for s in after_source if _position(ordered, s) <= _position(ordered, fit.statement)]
    plan = _sliced(
        notebook,
        flows,
        groups,
        ordered,
        index,
        imports,
        module,
        source,
        fits,
        fit,
        model,
        scoring,
        window,
    )
    plan.scorings = scorings
    _assign_sections(plan)
    kept = [*source.ingest, *plan.prep, *plan.model_code]
    used = module.closure(n for s in kept for n in s.reads)
    kept += [s for n, s in module.definitions.items() if n in used]
    make = FindingMaker(notebook)
    findings = [*source_findings(flows, make), *name_findings(flows, make)]
    blocking = kept_code_blockers(findings, kept)
    if blocking:
        raise NotConvertible(sorted(blocking, key=lambda b: (b.cell, b.line or 0)))
    return plan


def _sliced(
    notebook: Notebook,
    flows: tuple[CellFlow, ...],
    groups: list[CellGroup],
    ordered: list[Statement],
    index: NameIndex,
    imports: dict[str, str],
    module: ModuleCode,
    source: DataSource,
    fits: list[ModelFit],
    fit: ModelFit,
    model: str,
    scoring: Scoring,
    window: list[Statement],
) -> Plan:
    before_fit = window[:-1]
    x_needs = _free(fit.x) - module.names
    y_needs = _free(fit.y) - module.names
    splits_by_id = {id(s.statement): s for s in find_splits(before_fit)}

    def reads_for(statement: Statement, needed: set[str]) -> frozenset[str]:
        split = splits_by_id.get(id(statement))
        if split is None:
            return statement.reads
        arrays = {p for name, (p, _) in split.parts.items() if name in needed}
        names = {n.id for a in arrays for n in ast.walk(split.arrays[a]) if isinstance(n, ast.Name)}
        call = split.statement.node.value  # type: ignore[attr-defined]  # an Assign: checked by the plan
        settings = {
            n.id
            for k in call.keywords
            if k.arg != "stratify"
            for n in ast.walk(k.value)
            if isinstance(n, ast.Name)
        }
        return frozenset(names | settings)

    x_slice = slice_statements(before_fit, x_needs, reads_for)
    y_slice = slice_statements(before_fit, y_needs, reads_for)
    fit_reads = fit.statement.reads - _free(fit.x) - _free(fit.y)
    model_needs = fit_reads | ({model} if model not in fit.statement.binds else set())
    model_slice = slice_statements(before_fit, model_needs)
    prep_ids = {id(s) for s in x_slice.kept} | {id(s) for s in y_slice.kept}
    prep = [s for s in window if id(s) in prep_ids]
    x_ids = {id(s) for s in x_slice.kept}
    blockers: list[Blocker] = []
    unknown = (x_slice.needs | y_slice.needs) - set(source.names) - module.names - ALWAYS_DEFINED
    for name in sorted(unknown):
        blockers.append(
            Blocker(
                fit.statement.cell,
                fit.statement.line,
                f"the model's input needs `{name}`, which does not come from the data read in "
                f"cell {source.statement.cell}",
                FindingKind.INPUT_NOT_FROM_DATA.value,
            )
        )
    model_code = [s for s in model_slice.kept if id(s) not in prep_ids] + [fit.statement]
    prep_bound = {n for s in prep for n in s.binds | s.changes}
    for statement in model_code:
        shared = sorted((statement.reads & prep_bound) - {model} - _free(fit.x) - _free(fit.y))
        if shared and statement is not fit.statement:
            blockers.append(
                Blocker(
                    statement.cell,
                    statement.line,
                    f"the model is built from {', '.join(f'`{n}`' for n in shared)}, computed "
                    "from the data: build it from settings alone (shipml trains it on new data)",
                    FindingKind.MODEL_BUILT_FROM_DATA.value,
                )
            )
    for name in sorted(
        model_slice.needs - module.names - ALWAYS_DEFINED - prep_bound - set(source.names)
    ):
        blockers.append(
            Blocker(
                fit.statement.cell,
                fit.statement.line,
                f"the model needs `{name}`, which no cell before the fit binds",
                FindingKind.INPUT_NOT_FROM_DATA.value,
            )
        )
    data_names = _data_names(source, window)
    splits = find_splits(prep)
    label = label_column(y_slice.kept, data_names, fit)
    plan = Plan(
        notebook=notebook,
        flows=flows,
        groups=groups,
        statements=ordered,
        index=index,
        imports=imports,
        module=module,
        source=source,
        fits=fits,
        fit=fit,
        model=model,
        scoring=scoring,
        scorings=[],
        label=label,
        prep=prep,
        model_code=model_code,
        split=splits[-1] if splits else None,
        data_names=data_names,
    )
    plan.label_only = {id(s) for s in prep if id(s) not in x_ids}
    for statement in prep:
        blockers += _statement_blockers(plan, statement, imports, id(statement) in x_ids)
    for split in splits[:-1]:
        blockers.append(
            Blocker(
                split.statement.cell,
                split.statement.line,
                "a second train/test split before the fit: shipml holds out its rows once",
                FindingKind.SPLIT_TWICE.value,
            )
        )
    if blockers:
        raise NotConvertible(sorted(blockers, key=lambda b: (b.cell, b.line or 0)))
    return plan


def _statement_blockers(
    plan: Plan, statement: Statement, imports: dict[str, str], feeds_input: bool
) -> list[Blocker]:
    """Sites, rows taken by position, label uses: what a preparation statement needs or blocks."""
    blockers: list[Blocker] = []
    text = statement.source
    tree = ast.parse(text)
    first = statement.line
    plan.sites[id(statement)] = find_sites(tree, statement.cell, first, plan.data_names, imports)
    for problem in batch_dependent(tree, first, imports):
        blockers.append(_batch_blocker(statement, problem))
    if plan.label is not None and feeds_input:
        use = label_use(statement.node, plan.label, plan.data_names)
        plan.label_uses[id(statement)] = use
        if use == "computes":
            blockers.append(
                Blocker(
                    statement.cell,
                    label_line(statement.node, plan.label),
                    f"reads the label column {plan.label!r} to compute the model's input: "
                    "rows to score have no label (a feature made from it leaks the answer)",
                    FindingKind.LABEL_IN_FEATURES.value,
                )
            )
    if feeds_input:
        for line in _positional_rows(statement):
            blockers.append(
                Blocker(
                    statement.cell,
                    line,
                    "takes rows by position (`[:n]`, `.head(n)`, `.iloc[:n]`) before the fit: "
                    "a batch to score would lose rows; use train_test_split, which shipml "
                    "replaces by its own holdout",
                    FindingKind.ROWS_BY_POSITION.value,
                )
            )
    return blockers


def _batch_blocker(statement: Statement, problem: BatchDependent) -> Blocker:
    return Blocker(
        statement.cell,
        problem.line,
        f"{problem.what}: a row to score would get a value that depends on the other rows "
        "scored with it; compute the statistic once (e.g. `means = df.groupby(k)[c].mean()`, then "
        "`df[k].map(means)`) so that shipml can learn it in training",
        FindingKind.BATCH_DEPENDENT.value,
    )


def _assign_sections(plan: Plan) -> None:
    """The leading sections of the preparation that can be transforms (a table in, a table out,
    nothing learned, no label read), while the frame flowing through them is one frame."""
    if plan.source.kind == "dataset" and len(plan.source.names) != 1:
        return
    frame = plan.source.names[-1]
    fit_group = plan.group_of(plan.fit.statement)
    split_group = plan.group_of(plan.split.statement) if plan.split else fit_group
    for position in range(plan.group_of(plan.source.ingest[-1]), len(plan.groups)):
        statements = [s for s in plan.in_group(position) if id(s) not in plan.label_only]
        if not statements:
            if plan.in_group(position):
                break
            continue
        if position >= min(fit_group, split_group) or not _stateless(plan, statements, frame):
            break
        later = [s for s in plan.prep if plan.group_of(s) > position]
        produced = {n for s in statements for n in s.binds | s.changes}
        used_later = {n for s in later for n in s.reads} & produced & plan.data_names
        if len(used_later) != 1:
            break
        plan.transform_groups.append(position)
        frame = next(iter(used_later))


def _stateless(plan: Plan, statements: list[Statement], frame: str) -> bool:
    """Nothing learned, no label read, and `frame` the only data read from before."""
    bound: set[str] = set()
    outside: set[str] = set()
    for statement in statements:
        outside |= (statement.reads & plan.data_names) - bound
        bound |= statement.binds
    return (
        all(not plan.sites.get(id(s)) for s in statements)
        and all(plan.label_uses.get(id(s), "none") == "none" for s in statements)
        and outside <= {frame}
    )


def _data_names(source: DataSource, window: Sequence[Statement]) -> frozenset[str]:
    """Names holding the data or something computed from it (frames, arrays, fitted objects)."""
    names = set(source.names)
    for statement in window:
        if statement.reads & names:
            names |= statement.binds | statement.changes
    return frozenset(names)


def _positional_rows(statement: Statement) -> list[int]:
    lines = []
    for node in ast.walk(statement.node):
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            if node.slice.lower is not None or node.slice.upper is not None:
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("head", "tail")
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def _free(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _after(statement: Statement, other: Statement) -> bool:
    return (statement.cell, statement.line) >= (other.cell, other.line)


def _position(ordered: list[Statement], statement: Statement) -> int:
    return next(i for i, s in enumerate(ordered) if s is statement)


def _refuse(cell: int, line: int | None, reason: str, kind: FindingKind) -> NoReturn:
    raise NotConvertible([Blocker(cell, line, reason, kind.value)])
