"""From a sketched and captured notebook to the design of the shipml project replacing it.

- the data read becomes the training data file and a batch window (no ingest step);
- the sections between the read and the fit become transforms, one table in and one out;
- the fit's section becomes `train`, fitting on all the rows it gets (shipml holds out its
  own share); the notebook's split and evaluation are reported as not carried over;
- the scoring call becomes `predict`, shaped like the notebook's own scored frame.
Whatever does not fit this shape stops the conversion with the reasons, by cell.
"""

from __future__ import annotations

import pandas as pd

from shipml.notebooks.convert.capture import Captured
from shipml.notebooks.convert.contract_plan import plan_contracts
from shipml.notebooks.convert.evidence import collect_evidence
from shipml.notebooks.convert.frames import field_names, identifier_columns
from shipml.notebooks.convert.notebook_run import NotebookRun
from shipml.notebooks.convert.project_spec import (
    Design,
    Dropped,
    PredictSpec,
    Task,
    TrainSpec,
)
from shipml.notebooks.convert.rewrite import Snippet
from shipml.notebooks.convert.scoring_plan import notebook_scores, predict_spec
from shipml.notebooks.convert.sketch import Sketch
from shipml.notebooks.convert.stages import (
    Stage,
    TrainInputs,
    label_column,
    raw_data,
    train_inputs,
    transform_stages,
)
from shipml.notebooks.convert.step_plan import StepPlanner, feature_columns

# Names the generated steps module binds itself; the notebook must leave them free.
GENERATED_NAMES = frozenset(
    {"LABEL", "FEATURE_COLUMNS", "FIELD_NAMES", "NOTEBOOK_NAMES", "Table", "step", "Any"}
)


def design_project(sketch: Sketch, captured: Captured, name: str) -> Design:
    """The project replacing the notebook; NotConvertible with the reasons by cell."""
    run = NotebookRun(sketch, captured)
    _refuse_generated_names(run)
    raw = raw_data(run)
    label = label_column(run, raw.frame)
    inputs = train_inputs(run, label)
    stages = transform_stages(run, inputs)
    scores = notebook_scores(run)
    output = scores.output
    ids = identifier_columns(output, raw.frame, label) if isinstance(output, pd.DataFrame) else []
    contracts = plan_contracts(run, raw, label, stages, output, scores.score_name, ids)
    renames, problems = field_names(c for spec in contracts.specs for c in spec.frame.columns)
    for problem in problems:
        run.block(sketch.data_read.statement.cell, None, problem)
    planner = StepPlanner(run, label)
    transforms = planner.transforms(stages, contracts)
    model = _fitted_model(run)
    columns = feature_columns(run, model, inputs.frame, label)
    train = planner.train(inputs, contracts, columns)
    predict = predict_spec(run, scores, ids, contracts.predict_input, contracts.prediction)
    imports, constants, helpers = planner.module_code(
        [s.text for t in transforms for s in t.body], _code_texts(train, predict)
    )
    run.stop_if_blocked()
    evidence = collect_evidence(
        run, raw, label, transforms, contracts, inputs, scores, ids, columns
    )
    design = Design(
        name=name,
        notebook=sketch.notebook.path,
        label=label,
        task=_task(model, predict.method),
        holdout_fraction=sketch.split.test_size if sketch.split else None,
        prediction_column=next(c for c in predict.columns if c not in ids),
        raw=raw,
        imports=imports,
        constants=constants,
        helpers=helpers,
        transforms=transforms,
        train=train,
        predict=predict,
        contracts=contracts.specs,
        renames=renames,
        feature_columns=columns,
        evidence=evidence,
        fit_cell=sketch.fit.statement.cell,
        sections=len(sketch.groups),
        code_cells=len(sketch.flows),
        capture_seconds=captured.seconds,
        changes=planner.changes,
        dropped=_dropped(run, stages, inputs, helpers),
    )
    design.todo = _todo(design, ids)
    return design


def _fitted_model(run: NotebookRun) -> object:
    """The notebook's fitted model, brought back from its run."""
    fit = run.sketch.fit
    model = run.value(fit.model, run.train_position)
    if model is None:
        last_cell = run.sketch.groups[run.train_position].cells[-1]
        why = run.captured.unsaved.get(last_cell, {}).get(fit.model, "it was not saved")
        run.block(
            fit.statement.cell,
            fit.statement.line,
            f"the fitted model `{fit.model}` cannot be brought out of the notebook ({why}): "
            "classes defined in the notebook cannot be loaded by a pipeline either; move them "
            "into a module next to the notebook",
        )
        run.stop_if_blocked()
    return model


def _refuse_generated_names(run: NotebookRun) -> None:
    for name in sorted(run.module.names & GENERATED_NAMES):
        statement = next(
            s for cell in run.sketch.statements.values() for s in cell if name in s.binds
        )
        run.block(
            statement.cell,
            statement.line,
            f"binds `{name}`, a name the generated steps module defines itself: rename it",
        )
    run.stop_if_blocked()


def _code_texts(train: TrainSpec, predict: PredictSpec) -> list[str]:
    """The code `train` and `predict` run, to find the module code it uses."""
    return [*(s.text for s in train.body), predict.scoring, *predict.columns.values()]


def _task(model: object, method: str) -> Task:
    """Classification when the model is a classifier or the notebook scores probabilities."""
    if method == "predict_proba":
        return "classification"
    try:
        from sklearn.base import is_classifier
    except ImportError:  # scikit-learn is not there: the scoring method is all we know
        return "regression"
    return "classification" if is_classifier(model) else "regression"


def _dropped(
    run: NotebookRun, stages: list[Stage], inputs: TrainInputs, helpers: list[Snippet]
) -> list[Dropped]:
    """Every statement no step keeps (code, and functions no step calls), with why."""
    kept = {id(s) for stage in stages for s in stage.kept} | {id(s) for s in inputs.kept.kept}
    kept.add(id(run.sketch.data_read.statement))
    scoring = run.sketch.scoring
    emitted = {(h.cell, h.line) for h in helpers}
    dropped = []
    for position in range(len(run.sketch.groups)):
        for statement in run.sketch.statements_in(position):
            if statement.kind == "definition" and (statement.cell, statement.line) not in emitted:
                reason = "a function no step uses"
            elif statement.kind != "code" or id(statement) in kept:
                continue
            elif scoring is not None and statement.node is scoring.statement:
                continue  # it is the predict step's scoring
            elif statement.binds and statement.binds <= inputs.label_names:
                reason = "takes the label out: shipml sets it aside and gives it to `train`"
            else:
                reason = _drop_reason(run, position)
            dropped.append(
                Dropped(statement.cell, statement.line, statement.first_line_text, reason)
            )
    return dropped


def _drop_reason(run: NotebookRun, position: int) -> str:
    if position == run.train_position:
        return "not needed to fit the model (evaluation: shipml evaluates on its own holdout)"
    if position > run.train_position:
        return "after the fit: the predict step replaces it (its results are the tests' reference)"
    return "not needed by any step"


def _todo(design: Design, ids: list[str]) -> list[str]:
    """What the user should check or decide, in the words of CONVERSION.md."""
    todo = [
        "Review the contracts in contracts.py: inferred from the rows the notebook produced "
        f"({len(design.raw.frame)} rows read); tighten them (bounds, patterns) where you know "
        "more.",
        "No postprocess step: the notebook has none; add one to `pipeline.py` if consumers of "
        "the predictions need another shape.",
    ]
    if not ids:
        todo.append(
            "The notebook's scored rows carry no identifier column: the predictions are matched "
            "to their input rows by position only; carry an id column through the transforms."
        )
    if design.evidence.refit_reproduces is not True:
        todo.append(
            "Refitting the notebook's model on the same rows does not give the same scores "
            "(randomness without a seed?): tests/test_notebook.py cannot compare `train` with "
            "the notebook's fit; set `random_state` in the notebook and convert again."
        )
    scored = [c for c in design.predict.columns if c not in ids]
    if len(scored) > 1:
        todo.append(
            f"The predictions have several columns ({', '.join(scored)}); shipml evaluates and "
            f"monitors `{scored[0]}` ([training] prediction): change it if another matters."
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
