"""From the plan and the notebook's run to the design of the shipml project replacing it.

- the data read (or the dataset loaded) becomes the training data file and a batch window;
- the leading sections that only reshape rows become transforms, one table in and one out;
- the rest of the preparation becomes `prepare(rows, learned)`, which runs inside the model:
  `train` runs it learning (statistics, fitted scalers and encoders, indicator columns) and
  then builds and fits the notebook's model on all the rows it gets (shipml holds out its own
  share instead of the notebook's split); `predict` runs it replaying what was learned, then
  the notebook's own scoring. Training and scoring share the code: no skew by construction.
Whatever does not fit this shape stops the conversion with the reasons, by cell.
"""

from __future__ import annotations

import ast
import json
from typing import Any

import numpy as np
import pandas as pd

from shipml.notebooks.check.labels import drop_calls, ignoring_missing
from shipml.notebooks.check.plan import GENERATED_NAMES, Plan
from shipml.notebooks.check.roles import dict_frame_columns
from shipml.notebooks.check.statements import Statement, free_names
from shipml.notebooks.convert.adaptations import Change, keeping_row_index
from shipml.notebooks.convert.capture import Captured
from shipml.notebooks.convert.frames import camel_case, field_names, snake_case
from shipml.notebooks.convert.instrument import (
    innermost_statement,
    learning_text,
    prediction_naming,
    scoring_expression,
    where,
    with_call_replaced,
)
from shipml.notebooks.convert.modules import ModuleParts, module_parts
from shipml.notebooks.convert.project_spec import (
    ContractSpec,
    Design,
    Evidence,
    PredictSpec,
    PrepareSpec,
    RawData,
    TrainSpec,
    TransformSpec,
)
from shipml.notebooks.convert.rewrite import Edit, Snippet, replace, source_of
from shipml.notebooks.convert.unkept import dropped_statements
from shipml.notebooks.errors import Blocker, NotConvertible

X_NAME, Y_NAME, INDEX_NAME = "X_prepared", "y_prepared", "rows_kept"


class _Designer:
    """Builds the design step by step, collecting every reason to stop and every change."""

    def __init__(self, plan: Plan, captured: Captured, name: str) -> None:
        self.plan = plan
        self.captured = captured
        self.name = name
        self.blockers: list[Blocker] = []
        self.changes: list[Change] = []
        self.taken: set[str] = set(plan.module.names) | GENERATED_NAMES

    def block(
        self, cell: int, line: int | None, reason: str, kind: str = "not_convertible"
    ) -> None:
        """Note a reason the notebook cannot be converted."""
        self.blockers.append(Blocker(cell, line, reason, kind))

    def stop_if_blocked(self) -> None:
        """Raise NotConvertible with every reason noted so far."""
        if self.blockers:
            raise NotConvertible(sorted(self.blockers, key=lambda b: (b.cell, b.line or 0)))

    def value(self, when: str, statement: Statement, name: str) -> Any:
        """What `name` held just before or after `statement` ran in the notebook."""
        place = where(self.plan, statement)
        return self.captured.value(when, place.cell, place.position, name)


def design_project(plan: Plan, captured: Captured, name: str) -> Design:
    """The project replacing the notebook; NotConvertible with the reasons by cell."""
    d = _Designer(plan, captured, name)
    raw = captured.raw
    label = plan.label or captured.label
    fit = plan.fit.statement
    if not isinstance(raw, pd.DataFrame):
        d.block(
            plan.source.statement.cell,
            plan.source.statement.line,
            "the data read here is not a pandas DataFrame",
        )
    elif label is None or label not in raw.columns:
        found = f" ({label!r} is not a column of the data)" if label else ""
        d.block(
            fit.cell,
            fit.line,
            f"cannot tell which column of the data the model learns{found}: fit on a column "
            'of the data as read (`y = df["target"]`)',
        )
    d.stop_if_blocked()
    assert label is not None
    training = _training_rows(d, raw, label)
    ids = _identifier_columns(d, raw, label)
    transforms, frames = _transforms(d, raw, label, ids)
    renames, problems = field_names(
        c for f in [raw, *frames] for c in f.columns if c != label or f is raw
    )
    for problem in problems:
        d.block(plan.source.statement.cell, None, problem)
    d.stop_if_blocked()
    raw_contract = _unique(d, _raw_name(plan))
    labelled = _unique(d, f"Labelled{raw_contract}")
    stage_contracts = [_unique(d, camel_case(t.output)) for t in transforms]
    transforms = _chained(transforms, raw_contract, stage_contracts)
    train_input = _unique(d, f"Labelled{stage_contracts[-1]}") if transforms else labelled
    prepare = _prepare(d, label, transforms, ids, renames)
    train = _train(d, train_input, renames)
    expected, prediction_column, predict = _predict(
        d, raw, label, ids, transforms, renames, raw_contract
    )
    code = [*prepare.lines, *train.lines, predict.scoring]
    parts = module_parts(plan, code, _texts(transforms), label)
    d.blockers += parts.blockers
    d.changes += parts.changes
    for snippet in parts.classes:
        d.changes.append(
            Change(
                snippet.cell,
                snippet.line,
                f"class `{_class_name(snippet.text)}` moved into notebook_code.py, "
                "which steps.py imports and the saved model loads from",
                "class_moved",
            )
        )
    d.stop_if_blocked()
    contracts = [
        ContractSpec(
            raw_contract, raw.drop(columns=[label]), f"A row of `{_data_name(plan)}`, as read."
        ),
        ContractSpec(
            labelled,
            training[[label]],
            f"A training row: a row of `{_data_name(plan)}` with its label.",
            base=raw_contract,
        ),
    ]
    previous = raw_contract
    for spec, frame in zip(transforms, frames, strict=True):
        contracts.append(
            ContractSpec(
                spec.output_contract, frame, f"A row of `{spec.output}` (section {spec.section!r})."
            )
        )
        previous = spec.output_contract
    if transforms:
        contracts.append(
            ContractSpec(
                train_input,
                training[[label]],
                f"A row `train` takes: {previous} with the label.",
                base=previous,
            )
        )
    contracts.append(
        ContractSpec(predict.output_contract, expected, "A scored row, as the notebook scores it.")
    )
    evidence = _evidence(d, raw, training, label, transforms, expected)
    d.stop_if_blocked()
    info = captured.model_info
    design = Design(
        name=name,
        notebook=plan.notebook.path,
        label=label,
        task="classification"
        if info.get("classifier") or predict.method == "predict_proba"
        else "regression",
        holdout_fraction=plan.split.test_size if plan.split else None,
        prediction_column=prediction_column,
        raw=RawData(
            name=_data_name(plan),
            source=(plan.notebook.path.parent / plan.source.what).resolve()
            if plan.source.kind == "file"
            else None,
            loader=plan.source.what if plan.source.kind == "dataset" else None,
            frame=raw,
            training=training,
            copy_as_is=plan.source.kind == "file" and plan.source.plain,
        ),
        imports=parts.imports,
        constants=parts.constants,
        helpers=parts.helpers,
        classes=parts.classes,
        class_imports=parts.class_imports,
        transforms=transforms,
        prepare=prepare,
        train=train,
        predict=predict,
        contracts=contracts,
        renames=renames,
        raw_columns=[str(c) for c in raw.columns if c != label],
        evidence=evidence,
        model_class=str(info.get("class", "model")),
        fit_cell=fit.cell,
        sections=len(plan.groups),
        code_cells=len(plan.flows),
        capture_seconds=captured.seconds,
        learned_sites=sum(len(plan.sites.get(id(s), [])) for s in plan.in_model),
        other_models=sorted({f.model for f in plan.fits} - {plan.model}),
        changes=d.changes,
    )
    design.dropped = dropped_statements(plan, parts)
    design.todo = _todo(design, ids)
    return design


# -- the data -------------------------------------------------------------------------------


def _training_rows(d: _Designer, raw: pd.DataFrame, label: str) -> pd.DataFrame:
    """The labelled rows, with the label as the model learns it (a transformation the notebook
    applies to the label column in place is applied once, here)."""
    training = raw.copy()
    transforms = [s for s in d.plan.prep if d.plan.label_uses.get(id(s)) == "transforms"]
    if transforms:
        last = transforms[-1]
        frame_name = next(iter(sorted(last.binds | last.changes)))
        frame = d.value("after", last, frame_name)
        if not isinstance(frame, pd.DataFrame) or label not in frame.columns:
            d.block(last.cell, last.line, f"cannot read the label {label!r} after this statement")
            d.stop_if_blocked()
        pairs = pd.DataFrame({"raw": raw[label].loc[frame.index], "learned": frame[label]})
        mapping = pairs.drop_duplicates().set_index("raw")["learned"]
        if mapping.index.has_duplicates:
            d.block(
                last.cell,
                last.line,
                f"transforms the label {label!r} in a way that is not value by value: "
                "make the label a column of the data as the model should learn it",
            )
            d.stop_if_blocked()
        training[label] = raw[label].map(mapping)
        for statement in transforms:
            d.changes.append(
                Change(
                    statement.cell,
                    statement.line,
                    f"the label `{label}` transformed in place: applied once to "
                    "data/train.csv, which holds the label as the model learns it",
                    "label_transformed",
                )
            )
    return training[training[label].notna()]


def _identifier_columns(d: _Designer, raw: pd.DataFrame, label: str) -> list[str]:
    """Columns of the data that name rows and that the notebook puts beside its predictions."""
    scoring = d.plan.scoring
    scope: ast.AST = scoring.function or d.plan.scoring.statement.node
    literal = dict_frame_columns(scope)
    if not literal:
        later = [s for s in d.plan.statements if s.cell == scoring.cell]
        literal = {k: v for s in later for k, v in dict_frame_columns(s.node).items()}
    ids = []
    for column, expression in literal.items():
        if column == label or column not in raw.columns:
            continue
        if (
            isinstance(expression, ast.Subscript)
            and isinstance(expression.slice, ast.Constant)
            and expression.slice.value == column
            and raw[column].is_unique
        ):
            ids.append(column)
    return ids


# -- transforms -------------------------------------------------------------------------------


def _transforms(
    d: _Designer, raw: pd.DataFrame, label: str, ids: list[str]
) -> tuple[list[TransformSpec], list[pd.DataFrame]]:
    plan = d.plan
    specs: list[TransformSpec] = []
    frames: list[pd.DataFrame] = []
    previous = raw.drop(columns=[label])
    parameter = plan.source.names[-1]
    taken = set(plan.module.names) | GENERATED_NAMES
    taken |= {n for s in plan.prep for n in s.binds | s.changes}
    for number, position in enumerate(plan.transform_groups):
        statements = [s for s in plan.in_group(position) if id(s) not in plan.label_only]
        later = [s for s in plan.prep if plan.group_of(s) > position]
        produced = {n for s in statements for n in s.binds | s.changes}
        output = next(iter({n for s in later for n in s.reads} & produced & plan.data_names))
        value = d.value("after", statements[-1], output)
        if not isinstance(value, pd.DataFrame):
            d.block(
                statements[-1].cell,
                statements[-1].line,
                f"`{output}` is not a pandas DataFrame: steps pass tables",
            )
            d.stop_if_blocked()
        frame = value.drop(columns=[label], errors="ignore")
        carried = []
        for column in ids:
            if column not in frame.columns and frame.index.isin(previous.index).all():
                frame = frame.assign(**{column: previous[column].loc[frame.index]})
                carried.append(column)
        body = []
        for statement in statements:
            snippet, changes, blockers = keeping_row_index(_snippet(statement))
            body.append(snippet)
            d.changes += changes
            d.blockers += blockers
        copies = any(parameter in s.changes and parameter not in s.binds for s in statements)
        group = plan.groups[position]
        name = _unique_step(snake_case(group.name or f"section_{number + 1}"), taken)
        specs.append(
            TransformSpec(
                name=name,
                section=group.name or f"cells {group.cells[0]}-{group.cells[-1]}",
                cells=tuple(sorted({s.cell for s in statements})),
                parameter=parameter,
                output=output,
                input_contract="",
                output_contract="",
                body=body,
                carried=tuple(carried),
                copies=copies,
            )
        )
        frames.append(frame)
        previous = frame
        parameter = output
    d.stop_if_blocked()
    return specs, frames


def _chained(specs: list[TransformSpec], raw: str, outputs: list[str]) -> list[TransformSpec]:
    chained = []
    for number, spec in enumerate(specs):
        chained.append(
            TransformSpec(
                **{
                    **spec.__dict__,
                    "input_contract": outputs[number - 1] if number else raw,
                    "output_contract": outputs[number],
                }
            )
        )
    return chained


# -- prepare, train, predict ----------------------------------------------------------------


def _prepare(
    d: _Designer,
    label: str,
    transforms: list[TransformSpec],
    ids: list[str],
    renames: dict[str, str],
) -> PrepareSpec:
    """The preparation inside the model, from the rows `train`/`predict` get to the fit's input."""
    plan = d.plan
    lines: list[str] = []
    guarded: list[str] = []

    def emit(text: str, *, fitting_only: bool = False) -> None:
        if fitting_only:
            guarded.append(text)
            return
        if guarded:
            lines.append("if learned.fitting:\n" + "\n".join(_indent(g) for g in guarded))
            guarded.clear()
        lines.append(text)

    if renames:
        emit("rows = rows.rename(columns=NOTEBOOK_NAMES)")
    for text, fitting_only in _restored(d, label, transforms, ids):
        emit(text, fitting_only=fitting_only)
    index = "rows.index"
    in_model = plan.in_model
    for statement in in_model:
        use = plan.label_uses.get(id(statement), "none")
        if plan.split is not None and statement is plan.split.statement:
            split_lines, split_index = _split_replacement(d)
            for text, fitting_only in split_lines:
                emit(text, fitting_only=fitting_only)
            index = split_index or index
            continue
        if id(statement) in plan.label_only:
            emit(statement.source, fitting_only=True)
            continue
        if use == "transforms":
            continue
        text = learning_text(plan, statement)
        for site in plan.sites.get(id(statement), []):
            d.changes.append(
                Change(
                    statement.cell,
                    int(site.key.split("line ")[1].split()[0]),
                    f"`{_site_text(statement, site)}` learned from the training rows "
                    "and kept in the model (a batch to score gets the same value)",
                    "learned_from_data",
                )
            )
        if use == "drops":
            text = _ignoring_missing_label(statement, text, label)
            d.changes.append(
                Change(
                    statement.cell,
                    statement.line,
                    f'drops the label `{label}` with `errors="ignore"`: rows to score have none',
                    "label_dropped",
                )
            )
        snippet, changes, blockers = keeping_row_index(
            Snippet(statement.cell, statement.line, text)
        )
        d.changes += changes
        d.blockers += blockers
        if use == "filters":
            d.changes.append(
                Change(
                    statement.cell,
                    statement.line,
                    f"keeps training rows by the label `{label}`: runs while training only",
                    "label_filter",
                )
            )
        emit(snippet.text, fitting_only=use == "filters")
    emit("")
    lines = [line for line in lines if line]
    if index == "rows.index" and d.captured.fit_x_frame:
        index = f"{_source(plan.fit.statement, plan.fit.x)}.index"
    cells = tuple(sorted({s.cell for s in in_model}))
    return PrepareSpec(
        cells=cells,
        parameter="rows",
        lines=lines,
        features=_source(plan.fit.statement, plan.fit.x),
        label=_source(plan.fit.statement, plan.fit.y),
        index=index,
    )


def _restored(
    d: _Designer, label: str, transforms: list[TransformSpec], ids: list[str]
) -> list[tuple[str, bool]]:
    """The notebook's names the preparation starts from, taken from the step's rows."""
    plan = d.plan
    ingest = d.captured
    if ingest.frame_name is None and ingest.x_name and ingest.y_name:
        x_name, y_name = ingest.x_name, ingest.y_name
        x = 'rows.drop(columns=[LABEL], errors="ignore")' + (
            ".to_numpy()" if ingest.x_array else ""
        )
        y = "rows[LABEL]" + (".to_numpy()" if ingest.y_array else "")
        return [(f"{x_name} = {x}", False), (f"{y_name} = {y}", True)]
    frame = transforms[-1].output if transforms else (ingest.frame_name or plan.source.names[-1])
    start = plan.in_model[0] if plan.in_model else plan.fit.statement
    value = d.value("before", start, frame)
    carried = list(transforms[-1].carried) if transforms else []
    with_label = isinstance(value, pd.DataFrame) and label in value.columns
    dropped = carried + ([] if with_label else ["LABEL"])
    if dropped:
        names = ", ".join("LABEL" if c == "LABEL" else json.dumps(c) for c in dropped)
        restored = [(f'{frame} = rows.drop(columns=[{names}], errors="ignore")', False)]
    else:
        restored = [(f"{frame} = rows.copy()", False)]
    for statement in plan.prep:
        if id(statement) in plan.label_only and plan.group_of(statement) in plan.transform_groups:
            target = _simple_label_read(statement, label)
            if target is None:
                d.block(
                    statement.cell,
                    statement.line,
                    "takes the label out in a section that reshapes rows: take it as "
                    f'`y = df["{label}"]` where the model is fitted',
                )
                continue
            restored.append((f"{target} = rows[LABEL]", True))
    return restored


def _split_replacement(d: _Designer) -> tuple[list[tuple[str, bool]], str | None]:
    """The notebook's train/test split, replaced by its training parts: all the rows."""
    plan = d.plan
    split = plan.split
    assert split is not None
    label_names = {n for s in plan.prep if id(s) in plan.label_only for n in s.binds}
    label_names |= {d.captured.y_name} if d.captured.y_name else set()
    label_names |= {
        n
        for s in plan.prep
        if id(s) in plan.label_only and plan.group_of(s) in plan.transform_groups
        for n in s.binds
    }
    lines: list[tuple[str, bool]] = []
    index = None
    first = split.arrays[0]
    first_text = _source(split.statement, first)
    first_value = (
        d.value("before", split.statement, first.id) if isinstance(first, ast.Name) else None
    )
    if isinstance(first_value, pd.DataFrame | pd.Series):
        lines.append((f"{INDEX_NAME} = {first_text}.index", False))
        index = INDEX_NAME
    for name, (position, part) in split.parts.items():
        if part != "train":
            continue
        array = split.arrays[position]
        reads = {n.id for n in ast.walk(array) if isinstance(n, ast.Name)}
        lines.append(
            (f"{name} = {_source(split.statement, array)}", bool(reads) and reads <= label_names)
        )
    d.changes.append(
        Change(
            split.statement.cell,
            split.statement.line,
            "train/test split taken out: `train` fits on all the rows it gets; "
            "shipml holds out [training] holdout_fraction of the data itself and "
            "evaluates on it",
            "split_replaced",
        )
    )
    return lines, index


def _train(d: _Designer, input_contract: str, renames: dict[str, str]) -> TrainSpec:
    plan = d.plan
    lines = ["learned = Learned(LABEL)", f"{X_NAME}, {Y_NAME}, _ = prepare(rows, learned)"]
    for statement in plan.model_code:
        if statement is plan.fit.statement:
            text = source_of(statement.code, statement.node)
            tree = ast.parse(text)
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
            original = [n for n in ast.walk(statement.node) if isinstance(n, ast.Call)]
            call = calls[[id(c) for c in original].index(id(plan.fit.call))]
            x, y = _x_and_y_nodes(call)
            lines.append(replace(text, [Edit(x, X_NAME), Edit(y, Y_NAME)]))
        else:
            lines.append(source_of(statement.code, statement.node))
    return TrainSpec(
        cells=tuple(sorted({s.cell for s in [*plan.in_model, *plan.model_code]})),
        input_contract=input_contract,
        parameter="rows",
        lines=lines,
        model=plan.model,
    )


def _predict(
    d: _Designer,
    raw: pd.DataFrame,
    label: str,
    ids: list[str],
    transforms: list[TransformSpec],
    renames: dict[str, str],
    raw_contract: str,
) -> tuple[pd.DataFrame, str, PredictSpec]:
    plan = d.plan
    scoring = plan.scoring
    reference = d.captured.reference
    if reference is None:
        d.block(
            scoring.cell,
            None,
            f"the notebook's predictions with `{plan.model}` cannot be matched with rows of "
            "its data (score rows of the train/test split's test part, or rows of the data "
            "frame, keeping their index)",
        )
        d.stop_if_blocked()
    assert reference is not None
    expected_values = np.asarray(reference["expected"])
    if expected_values.ndim != 1:
        d.block(
            scoring.cell,
            scoring.call.lineno + scoring.statement.line - 1,
            f"the scores have shape {expected_values.shape}: keep one score per row "
            "(`[:, 1]`: the probability of the positive class)",
        )
        d.stop_if_blocked()
    naming = prediction_naming(plan, label)
    score_name, column = naming.score, naming.column
    expression = with_call_replaced(plan, f"model.estimator.{scoring.method}({X_NAME})")
    unknown = free_names(expression) - {"model", X_NAME} - plan.module.names
    if unknown:
        d.block(
            scoring.cell,
            scoring.statement.line,
            f"the scoring here also reads {', '.join(f'`{n}`' for n in sorted(unknown))}, "
            "which a predict step (given the prepared rows and the model) does not have",
        )
    d.stop_if_blocked()
    if scoring_expression(plan) is not scoring.call and _positional(plan):
        d.changes.append(
            Change(
                scoring.cell,
                scoring.statement.line,
                "rows picked by position from the scores (`[:10]`, `.head()`) taken "
                "out: predict scores every row it gets",
                "rows_picked",
            )
        )
    labels = reference["labels"]
    expected = pd.DataFrame({c: raw[c].loc[labels].to_numpy() for c in ids})
    expected[column] = expected_values
    columns = {c: f"rows.loc[{INDEX_NAME}, {json.dumps(renames.get(c, c))}]" for c in ids}
    columns[column] = naming.expression
    prediction = _unique(d, "Prediction")
    spec = PredictSpec(
        cell=scoring.cell,
        parameter="rows",
        input_contract=transforms[-1].output_contract if transforms else raw_contract,
        output_contract=prediction,
        scoring=f"{score_name} = {expression}",
        columns=columns,
        method=scoring.method,
    )
    return expected, column, spec


# -- evidence --------------------------------------------------------------------------------


def _evidence(
    d: _Designer,
    raw: pd.DataFrame,
    training: pd.DataFrame,
    label: str,
    transforms: list[TransformSpec],
    expected: pd.DataFrame,
) -> Evidence:
    captured = d.captured
    if captured.learned is None or captured.model is None:
        d.block(
            d.plan.fit.statement.cell,
            d.plan.fit.statement.line,
            "the fitted model or what the preparation learned cannot be saved (pickled)",
        )
        d.stop_if_blocked()
    assert captured.learned is not None and captured.model is not None and captured.reference
    positions = raw.index.get_indexer(captured.reference["labels"]).tolist()
    cases = []
    previous = raw[raw[label].notna()].drop(columns=[label])
    for spec in transforms:
        statements = [
            s for s in d.plan.prep if s.cell in spec.cells and id(s) not in d.plan.label_only
        ]
        output = d.value("after", statements[-1], spec.output).drop(
            columns=[label], errors="ignore"
        )
        for column in spec.carried:
            output = output.assign(**{column: previous[column].loc[output.index]})
        cases.append((spec.name, previous, output))
        previous = output
    fit_rows = None
    sites_before_split = _learns_before_split(d.plan)
    if captured.refit_reproduces and not sites_before_split and captured.fit_labels is not None:
        labels = pd.Index(captured.fit_labels)
        if labels.isin(training.index).all():
            fit_rows = training.loc[labels]
    return Evidence(
        transform_cases=cases,
        learned=captured.learned,
        model=captured.model,
        model_repr=str(captured.model_info.get("repr", "")),
        positions=positions,
        expected=expected,
        model_input=_model_input(d, captured),
        fit_rows=fit_rows,
    )


def _model_input(d: _Designer, captured: Captured) -> bytes:
    payload = captured.reference["model_input"] if captured.reference else None
    if not isinstance(payload, bytes):
        d.block(
            d.plan.scoring.cell,
            None,
            "the rows the notebook's model scored cannot be saved (pickled)",
        )
        d.stop_if_blocked()
    assert isinstance(payload, bytes)
    return payload


def _learns_before_split(plan: Plan) -> bool:
    if plan.split is None:
        return any(plan.sites.get(id(s)) for s in plan.in_model)
    position = plan.statements.index(plan.split.statement)
    return any(plan.sites.get(id(s)) for s in plan.in_model if plan.statements.index(s) < position)


# -- small helpers ----------------------------------------------------------------------------


def _todo(design: Design, ids: list[str]) -> list[str]:
    """What the user should check or decide, in the words of CONVERSION.md."""
    todo = [
        (
            "Review the contracts in contracts.py: inferred from the rows the notebook produced "
            f"({len(design.raw.frame)} rows read); tighten them (bounds, patterns) where you know "
            "more."
        ),
        (
            "No postprocess step: the notebook has none; add one to `pipeline.py` if consumers of "
            "the predictions need another shape."
        ),
    ]
    if not ids:
        todo.append(
            "The notebook's scored rows carry no identifier column: the predictions are matched "
            "to their input rows by position only; carry an id column through the transforms."
        )
    if design.evidence.fit_rows is None:
        todo.append(
            "tests/test_notebook.py cannot check that `train` refits the notebook's exact model: "
            "the notebook learns from all its rows before the split, or its model is random "
            "without a seed; the test compares the model's settings instead."
        )
    if design.other_models:
        shown = ", ".join(f"`{m}`" for m in design.other_models)
        todo.append(
            f"The notebook also fits {shown}; `train` builds the model that makes its last "
            f"predictions (`{design.train.model}`, a {design.model_class}). Keep another by "
            "editing `train` in steps.py."
        )
    if design.holdout_fraction is None:
        todo.append(
            "The notebook holds out no test rows: shipml trains on 80% of data/train.csv and "
            "evaluates on the rest ([training] holdout_fraction = 0.2); adjust it if needed."
        )
    if design.renames:
        shown = ", ".join(f"{a!r} -> {b!r}" for a, b in design.renames.items())
        todo.append(
            f"Columns renamed in the contracts (not valid field names): {shown}; the steps "
            "rename them back for the notebook's code and the model."
        )
    return todo


def _texts(transforms: list[TransformSpec]) -> list[str]:
    return [s.text for t in transforms for s in t.body]


def _snippet(statement: Statement) -> Snippet:
    return Snippet(statement.cell, statement.line, source_of(statement.code, statement.node))


def _source(statement: Statement, node: ast.AST) -> str:
    return source_of(statement.code, node)


def _site_text(statement: Statement, site: Any) -> str:
    text = statement.source
    first = text.splitlines()[0] if text else ""
    return ast.get_source_segment(text, site.node) or first


def _ignoring_missing_label(statement: Statement, text: str, label: str) -> str:
    tree = ast.parse(text)
    edits = []
    for call in drop_calls(tree.body[0], label):
        if ignoring_missing(call):
            continue
        inner = ast.get_source_segment(text, call) or ""
        edits.append(
            Edit(
                call,
                inner[:-1].rstrip()
                + (", " if call.args or call.keywords else "")
                + 'errors="ignore")',
            )
        )
    return replace(text, edits) if edits else text


def _simple_label_read(statement: Statement, label: str) -> str | None:
    node = statement.node
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Subscript)
        and isinstance(node.value.slice, ast.Constant)
        and node.value.slice.value == label
    ):
        return node.targets[0].id
    return None


def _x_and_y_nodes(call: ast.Call) -> tuple[ast.expr, ast.expr]:
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    x = call.args[0] if call.args else keywords["X"]
    y = call.args[1] if len(call.args) > 1 else keywords["y"]
    return x, y


def _positional(plan: Plan) -> bool:
    statement = innermost_statement(plan.scoring.statement.node, plan.scoring.call)
    value = getattr(statement, "value", None)
    return value is not None and value is not scoring_expression(plan)


def _raw_name(plan: Plan) -> str:
    if plan.source.kind == "dataset":
        return camel_case(plan.source.what.removeprefix("load_"))
    return camel_case(plan.source.names[0])


def _data_name(plan: Plan) -> str:
    return plan.source.names[0] if plan.source.kind == "file" else f"{plan.source.what}()"


def _class_name(text: str) -> str:
    node = ast.parse(text).body[0]
    return node.name if isinstance(node, ast.ClassDef) else "?"


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line.strip() else line for line in text.splitlines())


def _unique(d: _Designer, name: str) -> str:
    candidate, number = name, 2
    while candidate in d.taken:
        candidate, number = f"{name}{number}", number + 1
    d.taken.add(candidate)
    return candidate


def _unique_step(name: str, taken: set[str]) -> str:
    candidate = name if name not in taken else f"{name}_step"
    number = 2
    while candidate in taken:
        candidate, number = f"{name}_step{number}", number + 1
    taken.add(candidate)
    return candidate


__all__ = ["ModuleParts", "design_project"]
