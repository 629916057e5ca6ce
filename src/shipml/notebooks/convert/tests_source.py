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
        files[f"{step}_input.pkl"] = f"the rows the notebook gave section {step}"
        files[f"{step}_output.pkl"] = f"the rows the notebook's section {step} made of them"
    files["model.pkl"] = f"the notebook's fitted model (a {design.model_class})"
    files["learned.pkl"] = (
        f"what the notebook's preparation learned from its rows ({design.learned_sites} "
        "statistics, fitted objects or column sets)"
    )
    files["scored_rows.json"] = (
        "which rows of the batch window file the notebook scored (its test rows)"
    )
    files["predictions.pkl"] = "what the notebook's model and preparation predict for them"
    files["model_input.pkl"] = "what the notebook gave its model for them (after its preparation)"
    if design.evidence.fit_rows is not None:
        files["fit_rows.pkl"] = "the rows the notebook's model was fitted on, with the label"
    return files


def contract_tests_source(design: Design) -> str:
    """tests/test_contracts.py."""
    raw = design.contracts[0].name
    labelled = design.contracts[1].name
    imports = import_block(
        [
            "from pathlib import Path",
            from_import("contracts", [labelled, raw]),
            "from shipml import read_table, validate",
        ]
    )
    suffix = ".csv"
    return render(
        "test_contracts.py.tmpl", imports=imports, suffix=suffix, labelled=labelled, raw=raw
    )


def notebook_tests_source(design: Design, window: str) -> str:
    """tests/test_notebook.py; `window` is the batch window file, relative to the project."""
    steps = [name for name, _, _ in design.evidence.transform_cases]
    tests = [piece("test_transform.py.tmpl", step=step) for step in steps]
    if design.transforms:
        tests.append(piece("test_labels.py.tmpl", suffix=".csv"))
    tests.append(piece("test_model_input.py.tmpl"))
    tests.append(piece("test_scoring.py.tmpl"))
    fraction = design.holdout_fraction if design.holdout_fraction is not None else 0.2
    tests.append(piece("test_holdout.py.tmpl", suffix=".csv", fraction=fraction))
    if design.evidence.fit_rows is not None:
        tests.append(piece("test_training.py.tmpl"))
    else:
        tests.append(piece("test_model_settings.py.tmpl", suffix=".csv"))
    names = [*(s.name for s in design.transforms), "train"]
    tests.append(piece("test_structure.py.tmpl", names=json.dumps(names)))
    statements = [
        "import json",
        "import pickle",
        "from pathlib import Path",
        "from typing import Any",
        "import numpy as np",
        "import pandas as pd",
        "from shipml import read_table",
        from_import("shipml.pipeline", ["Flow", "run_flow"]),
        "from learned import NotebookModel",
        "from pipeline import pipeline",
    ]
    statements.append(from_import("steps", [*steps, "LABEL", "prepare"]))
    return render(
        "test_notebook.py.tmpl",
        notebook=design.notebook.name,
        evidence_dir=EVIDENCE_DIR,
        imports=import_block(statements),
        window=window,
        tolerance=_TOLERANCE,
        tests="\n\n\n".join(tests),
    )
