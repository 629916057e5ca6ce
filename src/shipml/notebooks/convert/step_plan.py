"""The transforms and `train` as code: kept statements, adapted, and the module code they use."""

from __future__ import annotations

import ast
from typing import Any

import pandas as pd

from shipml.notebooks.convert.adaptations import (
    Change,
    keeping_row_index,
    with_names_replaced,
    without_label_filters,
)
from shipml.notebooks.convert.contract_plan import ContractPlan
from shipml.notebooks.convert.frames import snake_case
from shipml.notebooks.convert.notebook_run import NotebookRun
from shipml.notebooks.convert.project_spec import FEATURE_COLUMNS, TrainSpec, TransformSpec
from shipml.notebooks.convert.rewrite import Snippet, expression_text, source_of
from shipml.notebooks.convert.scoring_plan import free_names
from shipml.notebooks.convert.slicing import import_source
from shipml.notebooks.convert.stages import Stage, TrainInputs
from shipml.notebooks.convert.statements import FITTING_METHODS, Statement, calls_in, method_name
from shipml.notebooks.errors import Blocker

RESERVED_STEP_NAMES = frozenset({"train", "predict"})


class StepPlanner:
    """Turns kept statements into step bodies, noting every change made to them."""

    def __init__(self, run: NotebookRun, label: str) -> None:
        self.run = run
        self.label = label
        self.changes: list[Change] = []

    def transforms(self, stages: list[Stage], contracts: ContractPlan) -> list[TransformSpec]:
        """One transform per stage, chained by their contracts."""
        specs: list[TransformSpec] = []
        taken = set(self.run.module.names) | RESERVED_STEP_NAMES | _bound(stages)
        for number, stage in enumerate(stages):
            group = self.run.sketch.groups[stage.position]
            name = _unique(snake_case(group.name or f"section_{number + 1}"), taken)
            specs.append(
                TransformSpec(
                    name=name,
                    section=self.run.section(stage.position),
                    cells=tuple(sorted({s.cell for s in stage.kept})),
                    parameter=stage.parameter,
                    output=stage.output,
                    input_contract=contracts.stage_outputs[number - 1] if number else contracts.raw,
                    output_contract=contracts.stage_outputs[number],
                    body=[self.adapted(snippet_of(s)) for s in stage.kept],
                    carried=contracts.carried[number],
                )
            )
        return specs

    def adapted(self, snippet: Snippet) -> Snippet:
        """A transform's snippet without label filters and row renumbering (noted); one
        that fits an estimator is refused: a transform runs again on every batch."""
        snippet, changes, blockers = without_label_filters(snippet, self.label)
        snippet, more_changes, more_blockers = keeping_row_index(snippet)
        self.changes += changes + more_changes
        self.run.blockers += blockers + more_blockers + _fits(snippet)
        return snippet

    def train(
        self,
        inputs: TrainInputs,
        contracts: ContractPlan,
        feature_columns: list[str],
    ) -> TrainSpec:
        """`train`: the fit's kept statements, on the notebook's table restored from the rows."""
        run, split = self.run, self.run.sketch.split
        frame = run.value(inputs.frame, run.train_position - 1)
        columns = [str(c) for c in frame.columns]
        constant = (
            FEATURE_COLUMNS if columns == feature_columns else f"{inputs.frame.upper()}_COLUMNS"
        )
        replacements = {}
        if split is not None:
            for name, (position, part) in split.parts.items():
                if part == "train":
                    replacements[name] = expression_text(
                        split.statement.code, split.arrays[position]
                    )
        body = [
            with_names_replaced(snippet_of(s), replacements)
            for s in inputs.kept.kept
            if split is None or s is not split.statement
        ]
        if split is not None and split.statement in inputs.kept.kept:
            self.changes.append(
                Change(
                    split.statement.cell,
                    split.statement.line,
                    "train/test split taken out: `train` fits on all the rows it gets; shipml "
                    "holds out [training] holdout_fraction of the data itself and evaluates on it",
                )
            )
        parameter = _unique("rows", set(run.module.names) | _bound_by(inputs.kept.kept))
        restored = [(inputs.frame, f"{parameter}[{constant}]")]
        restored += [(name, f"{parameter}[LABEL]") for name in sorted(inputs.label_names)]
        model = run.value(run.sketch.fit.model, run.train_position)
        return TrainSpec(
            section=run.section(run.train_position),
            cells=tuple(sorted({s.cell for s in inputs.kept.kept})),
            input_contract=contracts.train_input,
            parameter=parameter,
            restored=restored,
            column_constants={} if constant == FEATURE_COLUMNS else {constant: columns},
            body=body,
            model=run.sketch.fit.model,
            model_annotation=self._annotation(model),
        )

    def module_code(
        self, transform_code: list[str], other_code: list[str]
    ) -> tuple[list[str], list[Snippet], list[Snippet]]:
        """The imports, constants and functions the steps' code uses, in notebook order.

        Functions the transforms use are adapted like the transforms' own code.
        """
        module = self.run.module
        by_transforms = module.closure(n for text in transform_code for n in free_names(text))
        used = by_transforms | module.closure(n for text in other_code for n in free_names(text))
        for name in sorted(used & RESERVED_STEP_NAMES):
            statement = module.definitions.get(name) or module.constants.get(name)
            self.run.block(
                statement.cell if statement else self.run.first_cell(0),
                statement.line if statement else None,
                f"`{name}` is used by the steps and clashes with the generated step `{name}`: "
                "rename it in the notebook",
            )
        definitions = _in_order({id(s): s for n, s in module.definitions.items() if n in used})
        helpers = [
            self.adapted(snippet_of(s)) if s.binds & by_transforms else snippet_of(s)
            for s in definitions
        ]
        used |= module.closure(n for helper in helpers for n in free_names(helper.text))
        constants = [
            snippet_of(s)
            for s in _in_order({id(s): s for n, s in module.constants.items() if n in used})
        ]
        imports = [
            line
            for s in _in_order({id(s): s for s in module.imports.values()})
            if (line := import_source(s, used)) is not None
        ]
        return imports, constants, helpers

    def _annotation(self, model: Any) -> str:
        """The model's class name when the notebook imports it by that name, else `Any`."""
        cls = type(model)
        origin = self.run.sketch.imports.get(cls.__name__, "")
        same_package = origin.split(".")[0] == cls.__module__.split(".")[0]
        return cls.__name__ if same_package and origin.endswith(cls.__name__) else "Any"


def feature_columns(run: NotebookRun, model: Any, frame_name: str, label: str) -> list[str]:
    """The columns the model learned from, in order: as it recorded them, else as fitted."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    fit_x = run.sketch.fit.x
    value = run.value(fit_x.id, run.train_position) if isinstance(fit_x, ast.Name) else None
    if isinstance(value, pd.DataFrame):
        return [str(c) for c in value.columns]
    frame = run.value(frame_name, run.train_position - 1)
    return [str(c) for c in frame.columns if c != label]


def _fits(snippet: Snippet) -> list[Blocker]:
    return [
        Blocker(
            snippet.cell,
            snippet.cell_line(call.lineno),
            f"`.{method_name(call)}(...)` in a transform: it would learn again from every batch "
            "it scores; state learned from the training data belongs in the model (e.g. a "
            "scikit-learn Pipeline fitted in the fit's section)",
        )
        for call in calls_in(snippet.tree())
        if method_name(call) in FITTING_METHODS
    ]


def snippet_of(statement: Statement) -> Snippet:
    """A statement's source as a snippet."""
    return Snippet(statement.cell, statement.line, source_of(statement.code, statement.node))


def _in_order(statements: dict[int, Statement]) -> list[Statement]:
    return sorted(statements.values(), key=lambda s: (s.cell, s.line))


def _bound(stages: list[Stage]) -> set[str]:
    return {name for stage in stages for name in _bound_by(stage.kept)}


def _bound_by(statements: list[Statement]) -> set[str]:
    return {name for s in statements for name in s.binds}


def _unique(name: str, taken: set[str]) -> str:
    candidate = name if name not in taken else f"{name}_step"
    number = 2
    while candidate in taken:
        candidate, number = f"{name}_step{number}", number + 1
    taken.add(candidate)
    return candidate
