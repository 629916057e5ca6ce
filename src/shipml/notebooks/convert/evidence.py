"""The notebook's own results that the generated tests hold the pipeline to."""

from __future__ import annotations

import ast

import pandas as pd

from shipml.notebooks.convert.contract_plan import ContractPlan, as_frame
from shipml.notebooks.convert.notebook_run import NotebookRun
from shipml.notebooks.convert.project_spec import Evidence, RawData, TransformSpec
from shipml.notebooks.convert.scoring_plan import NotebookScores
from shipml.notebooks.convert.stages import TrainInputs


def collect_evidence(
    run: NotebookRun,
    raw: RawData,
    label: str,
    transforms: list[TransformSpec],
    contracts: ContractPlan,
    inputs: TrainInputs,
    scores: NotebookScores,
    ids: list[str],
    feature_columns: list[str],
) -> Evidence:
    """What the notebook computed at each boundary, in the rows the tests will replay."""
    labelled = raw.frame[raw.frame[label].notna()].drop(columns=[label])
    inputs_of_steps = [labelled, *contracts.stage_frames[:-1]]
    cases = [
        (spec.name, given, expected)
        for spec, given, expected in zip(
            transforms, inputs_of_steps, contracts.stage_frames, strict=True
        )
    ]
    scoring_input, level, expected = _scoring_case(raw, label, scores, ids, feature_columns)
    return Evidence(
        transform_cases=cases,
        labels=_labels(run, label, inputs),
        fit_rows=_fit_rows(run, label, inputs),
        eval_rows=_eval_rows(run),
        refit_reproduces=run.captured.refit_reproduces,
        model=run.value(run.sketch.fit.model, run.train_position),
        scoring_input=scoring_input,
        scoring_level=level,
        expected=expected,
    )


def _labels(run: NotebookRun, label: str, inputs: TrainInputs) -> pd.Series | None:
    before = run.train_position - 1
    for name in sorted(inputs.label_names):
        value = run.value(name, before)
        if isinstance(value, pd.Series):
            return value.reset_index(drop=True)
    frame = run.value(inputs.frame, before)
    if isinstance(frame, pd.DataFrame) and label in frame.columns:
        return frame[label].reset_index(drop=True)
    return None


def _fit_rows(run: NotebookRun, label: str, inputs: TrainInputs) -> pd.DataFrame | None:
    """The notebook's table, cut to the rows the model was fitted on, with their label."""
    fit = run.sketch.fit
    if not (isinstance(fit.x, ast.Name) and isinstance(fit.y, ast.Name)):
        return None
    x = run.value(fit.x.id, run.train_position)
    y = run.value(fit.y.id, run.train_position)
    frame = run.value(inputs.frame, run.train_position - 1)
    if not all(isinstance(v, pd.DataFrame | pd.Series) for v in (x, y, frame)):
        return None
    if not x.index.isin(frame.index).all() or not x.index.equals(y.index):
        return None
    rows = frame.loc[x.index]
    return rows if label in rows.columns else rows.assign(**{label: y})


def _eval_rows(run: NotebookRun) -> pd.DataFrame | None:
    refit = run.sketch.refit_check()
    if refit is None:
        return None
    value = run.value(refit["x_eval"], run.train_position)
    return value if isinstance(value, pd.DataFrame) else None


def _scoring_case(
    raw: RawData,
    label: str,
    scores: NotebookScores,
    ids: list[str],
    feature_columns: list[str],
) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """The rows the notebook scored and its scores: from the data file when the scored frame
    names its rows by an identifier column, else as the model saw them."""
    expected = as_frame(scores.output, scores.score_name).reset_index(drop=True)
    if ids:
        by_id = raw.frame.set_index(ids[0], drop=False)
        rows = by_id.loc[expected[ids[0]].to_list()].reset_index(drop=True)
        return rows.drop(columns=[label]), "raw", expected
    seen = scores.model_input
    if not isinstance(seen, pd.DataFrame):
        seen = pd.DataFrame(seen, columns=feature_columns)
    return seen.reset_index(drop=True), "features", expected
