"""The tests of a converted project: its data satisfies the contracts, and the pipeline
reproduces what the notebook computed, on the notebook's own data."""

from __future__ import annotations

import json

from shipml.notebooks.convert.project_spec import Design
from shipml.notebooks.convert.source_layout import from_import, import_block
from shipml.notebooks.convert.templating import piece, render

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
    imports = import_block(
        [
            "from pathlib import Path",
            from_import("contracts", [labelled, raw]),
            "from shipml import validate",
            "from shipml.contracts.reading import read_table",
        ]
    )
    return render(
        "test_contracts.py.tmpl",
        imports=imports,
        suffix=_suffix(design),
        labelled=labelled,
        raw=raw,
    )


def notebook_tests_source(design: Design) -> str:
    """tests/test_notebook.py."""
    steps = [name for name, _, _ in design.evidence.transform_cases]
    tests = [piece("test_transform.py.tmpl", step=step) for step in steps]
    if _compares_labels(design):
        tests.append(piece("test_labels.py.tmpl", suffix=_suffix(design)))
    if _compares_training(design):
        method = design.predict.method
        tests.append(piece("test_training.py.tmpl", method=method, tolerance=_TOLERANCE))
    tests.append(_scoring_test(design))
    names = [*(s.name for s in design.transforms), "train"]
    tests.append(piece("test_structure.py.tmpl", names=json.dumps(names)))
    return render(
        "test_notebook.py.tmpl",
        notebook=design.notebook.name,
        evidence_dir=EVIDENCE_DIR,
        imports=_notebook_imports(design, _used_from_steps(design, steps)),
        tolerance=_TOLERANCE,
        tests="\n\n\n".join(tests),
    )


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


def _notebook_imports(design: Design, from_steps: list[str]) -> str:
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
    return import_block(statements)


def _scoring_test(design: Design) -> str:
    if design.evidence.scoring_level == "raw":
        scored = 'run_flow(pipeline.online, rows, context={"model": MODEL}).output'
        rows = "the rows of the data file the notebook scored"
    else:
        scored = "predict(rows, model=MODEL)"
        rows = "the rows the notebook's model scored"
    return piece("test_scoring.py.tmpl", rows=rows, scored=scored)


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
