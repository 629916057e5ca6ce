"""The tests of a converted project: its data satisfies the contracts, and the pipeline
reproduces what the notebook computed, on the notebook's own data."""

from __future__ import annotations

import json

from shipml.notebooks.convert.project_spec import Design
from shipml.notebooks.convert.source_layout import from_import, import_block

EVIDENCE_DIR = "tests/notebook"
_TOLERANCE = "1e-7"


def evidence_files(design: Design) -> dict[str, str]:
    """What each reference file in tests/notebook/ holds, by file name."""
    files = {}
    for step, _, _ in design.evidence.transform_cases:
        files[f"{step}_input.parquet"] = f"the rows the notebook gave section {step}"
        files[f"{step}_output.parquet"] = f"the rows the notebook's section {step} made of them"
    if _compares_labels(design):
        files["labels.parquet"] = "the label of each row reaching the fit, in order"
    if _compares_training(design):
        files["fit_rows.parquet"] = "the rows the notebook's model was fitted on, with the label"
        files["eval_rows.parquet"] = "rows the notebook's model scored after the fit"
    files["scoring_input.parquet"] = "the rows the notebook scored"
    files["scoring_output.parquet"] = "the notebook's scored rows"
    files["model.pkl"] = "the notebook's fitted model (pickle)"
    return files


def contract_tests_source(design: Design) -> str:
    """tests/test_contracts.py."""
    raw = design.contracts[0].name
    labelled = design.contracts[1].name
    suffix = _suffix(design)
    imports = import_block(
        [
            "from pathlib import Path",
            from_import("contracts", [labelled, raw]),
            "from shipml import validate",
            "from shipml.contracts.reading import read_table",
        ]
    )
    return f'''"""The data files satisfy the contracts (what shipml checks at every boundary)."""

{imports}

ROOT = Path(__file__).resolve().parent.parent


def test_the_training_data_satisfies_its_contract() -> None:
    report = validate(read_table(ROOT / "data" / "train{suffix}"), {labelled}).report
    assert report.ok, report.summary()


def test_every_window_file_satisfies_the_input_contract() -> None:
    files = sorted((ROOT / "data" / "windows").glob("*{suffix}"))
    assert files, "no window file in data/windows"
    for path in files:
        report = validate(read_table(path), {raw}).report
        assert report.ok, report.summary()
'''


def notebook_tests_source(design: Design) -> str:
    """tests/test_notebook.py."""
    steps = [name for name, _, _ in design.evidence.transform_cases]
    parts = [_notebook_header(design, _used_from_steps(design, steps))]
    parts += [_transform_test(step) for step in steps]
    if _compares_labels(design):
        parts.append(_labels_test(design))
    if _compares_training(design):
        parts.append(_training_test(design))
    parts.append(_scoring_test(design))
    parts.append(_structure_test(design))
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def _used_from_steps(design: Design, steps: list[str]) -> list[str]:
    """The names tests/test_notebook.py takes from steps.py."""
    used = [*steps]
    if _compares_labels(design):
        used.append("LABEL")
    if _compares_training(design):
        used.append("train")
    if design.evidence.scoring_level == "features":
        used.append("predict")
    return used


def _notebook_header(design: Design, from_steps: list[str]) -> str:
    statements = [
        "import pickle",
        "from pathlib import Path",
        "import pandas as pd",
        "from pipeline import pipeline",
    ]
    runner = [
        *(["Flow"] if design.transforms else []),
        *(["run_flow"] if design.transforms or design.evidence.scoring_level == "raw" else []),
    ]
    if runner:
        statements.append(from_import("shipml.pipeline", runner))
    if _compares_training(design):
        statements.append("import numpy as np")
    if _compares_labels(design):
        statements.append("from shipml.contracts.reading import read_table")
    if from_steps:
        statements.append(from_import("steps", from_steps))
    return f'''"""The pipeline reproduces what {design.notebook.name} computed, on its own data.

The reference files in {EVIDENCE_DIR}/ were saved when shipml ran the notebook top to bottom.
"""

{import_block(statements)}

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "{EVIDENCE_DIR}"
MODEL = pickle.loads((NOTEBOOK / "model.pkl").read_bytes())


def reference(name: str) -> pd.DataFrame:
    """A frame saved from the notebook's run."""
    return pd.read_parquet(NOTEBOOK / f"{{name}}.parquet")


def assert_same_rows(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The same values, column by column and row by row (shipml keeps the input's index)."""
    pd.testing.assert_frame_equal(
        actual[list(expected.columns)].reset_index(drop=True),
        expected.reset_index(drop=True),
        check_dtype=False,
        rtol={_TOLERANCE},
    )
'''


def _transform_test(step: str) -> str:
    return f'''
def test_{step}_makes_the_rows_the_notebook_made() -> None:
    given = reference("{step}_input")
    made = run_flow(Flow("online", ({step},)), given).output
    assert_same_rows(made, reference("{step}_output"))
'''


def _labels_test(design: Design) -> str:
    return f"""
def test_every_row_keeps_its_label_through_the_transforms() -> None:
    data = read_table(ROOT / "data" / "train{_suffix(design)}")
    rows = run_flow(Flow("online", pipeline.transforms), data.drop(columns=[LABEL])).output
    labels = data[LABEL].loc[rows.index].reset_index(drop=True)
    expected = reference("labels")[LABEL]
    pd.testing.assert_series_equal(labels, expected, check_dtype=False, check_names=False)
"""


def _training_test(design: Design) -> str:
    method = design.predict.method
    return f"""
def test_train_fits_the_model_the_notebook_fitted() -> None:
    model = train(reference("fit_rows"))
    rows = reference("eval_rows")
    expected = MODEL.{method}(rows)
    np.testing.assert_allclose(model.{method}(rows), expected, rtol={_TOLERANCE})
"""


def _scoring_test(design: Design) -> str:
    if design.evidence.scoring_level == "raw":
        scored = 'run_flow(pipeline.online, rows, context={"model": MODEL}).output'
        rows = "the rows of the data file the notebook scored"
    else:
        scored = "predict(rows, model=MODEL)"
        rows = "the rows the notebook's model scored"
    return f"""
def test_the_pipeline_scores_rows_as_the_notebook_did() -> None:
    rows = reference("scoring_input")  # {rows}
    scored = {scored}
    assert_same_rows(scored, reference("scoring_output"))
"""


def _structure_test(design: Design) -> str:
    names = [*(s.name for s in design.transforms), "train"]
    return f"""
def test_the_pipeline_has_the_notebook_sections_as_steps() -> None:
    assert [s.name for s in pipeline.training.steps] == {json.dumps(names)}
"""


def _compares_labels(design: Design) -> bool:
    return bool(design.transforms) and design.evidence.labels is not None


def _compares_training(design: Design) -> bool:
    evidence = design.evidence
    return (
        evidence.refit_reproduces is True
        and evidence.fit_rows is not None
        and evidence.eval_rows is not None
    )


def _suffix(design: Design) -> str:
    return ".parquet" if design.raw.source.suffix.lower() in (".parquet", ".pq") else ".csv"
