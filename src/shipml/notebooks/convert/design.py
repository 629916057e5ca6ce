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

import pandas as pd

from shipml.notebooks.check.plan import Plan
from shipml.notebooks.convert.adaptations import Change
from shipml.notebooks.convert.capture import Captured
from shipml.notebooks.convert.data_rows import identifier_columns, training_rows
from shipml.notebooks.convert.designer import Designer
from shipml.notebooks.convert.evidence import collect_evidence
from shipml.notebooks.convert.frames import camel_case, field_names
from shipml.notebooks.convert.modules import module_parts
from shipml.notebooks.convert.prepare_spec import prepare_spec
from shipml.notebooks.convert.project_spec import (
    ContractSpec,
    Design,
    RawData,
    TransformSpec,
)
from shipml.notebooks.convert.step_specs import predict_spec, train_spec
from shipml.notebooks.convert.transform_specs import chained, transform_specs
from shipml.notebooks.convert.unkept import dropped_statements


def design_project(plan: Plan, captured: Captured, name: str) -> Design:
    """The project replacing the notebook; NotConvertible with the reasons by cell."""
    d = Designer(plan, captured, name)
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
    training = training_rows(d, raw, label)
    ids = identifier_columns(d, raw, label)
    transforms, frames = transform_specs(d, raw, label, ids)
    renames, problems = field_names(
        c for f in [raw, *frames] for c in f.columns if c != label or f is raw
    )
    for problem in problems:
        d.block(plan.source.statement.cell, None, problem)
    d.stop_if_blocked()
    raw_contract = d.unique(_raw_name(plan))
    labelled = d.unique(f"Labelled{raw_contract}")
    stage_contracts = [d.unique(camel_case(t.output)) for t in transforms]
    transforms = chained(transforms, raw_contract, stage_contracts)
    train_input = d.unique(f"Labelled{stage_contracts[-1]}") if transforms else labelled
    prepare = prepare_spec(d, label, transforms, ids, renames)
    train = train_spec(d, train_input, renames)
    expected, prediction_column, predict = predict_spec(
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
            raw_contract,
            raw.drop(columns=[label]),
            f"A row of `{_data_name(plan)}`, as read.",
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
                spec.output_contract,
                frame,
                f"A row of `{spec.output}` (section {spec.section!r}).",
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
        ContractSpec(
            predict.output_contract,
            expected,
            "A scored row, as the notebook scores it.",
        )
    )
    evidence = collect_evidence(d, raw, training, label, transforms, expected)
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


def _raw_name(plan: Plan) -> str:
    if plan.source.kind == "dataset":
        return camel_case(plan.source.what.removeprefix("load_"))
    return camel_case(plan.source.names[0])


def _data_name(plan: Plan) -> str:
    return plan.source.names[0] if plan.source.kind == "file" else f"{plan.source.what}()"


def _class_name(text: str) -> str:
    node = ast.parse(text).body[0]
    return node.name if isinstance(node, ast.ClassDef) else "?"
