"""The notebook's own results, saved for the generated tests to hold the pipeline to: its
fitted model, what its preparation learned, the rows it scored, its model's input and its
predictions for them, and (when refitting reproduces it) the rows its model was fitted on."""

from __future__ import annotations

import pandas as pd

from shipml.notebooks.check.plan import Plan
from shipml.notebooks.convert.capture import Captured
from shipml.notebooks.convert.designer import Designer
from shipml.notebooks.convert.project_spec import Evidence, TransformSpec


def collect_evidence(
    d: Designer,
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


def _model_input(d: Designer, captured: Captured) -> bytes:
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
