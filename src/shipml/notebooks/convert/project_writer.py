"""Write a converted project: the layout `shipml init` makes, filled from the design."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

from shipml.notebooks.convert.contract_source import contracts_source
from shipml.notebooks.convert.project_spec import CLASSES_MODULE, Design
from shipml.notebooks.convert.steps_source import classes_source, pipeline_source, steps_source
from shipml.notebooks.convert.templating import render
from shipml.notebooks.convert.tests_source import (
    EVIDENCE_DIR,
    contract_tests_source,
    notebook_tests_source,
)
from shipml.scaffold import WINDOW, WINDOW_START, template_text, window_values

WINDOW_FORMAT = "%Y%m%dT%H%M"


def write_project(design: Design, directory: Path) -> list[Path]:
    """Write every file of the project into `directory` (absent or empty); the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    window = window_path(design).format(start=WINDOW_START)
    written = [
        _write(
            directory / "contracts.py",
            contracts_source(design.contracts, design.renames, design.notebook.name),
        ),
        _write(directory / "steps.py", steps_source(design)),
        _write(directory / "pipeline.py", pipeline_source(design)),
        _write(directory / "learned.py", render("learned.py.tmpl")),
        _write(directory / "shipml.toml", settings_source(design)),
        _write(directory / "dvc.yaml", render("dvc.yaml.tmpl", suffix=".csv")),
        _write(directory / "pytest.ini", template_text("pytest.ini.tmpl", {})),
        _write(directory / ".gitignore", template_text("gitignore.tmpl", {})),
        _write(directory / "README.md", _readme(design)),
        _write(directory / "tests" / "test_contracts.py", contract_tests_source(design)),
        _write(directory / "tests" / "test_notebook.py", notebook_tests_source(design, window)),
    ]
    classes = classes_source(design)
    if classes is not None:
        written.append(_write(directory / f"{CLASSES_MODULE}.py", classes))
    written += _write_data(design, directory)
    written += _write_evidence(design, directory / EVIDENCE_DIR)
    return written


def data_suffix(design: Design) -> str:
    """The format of the project's data files (CSV: what `shipml run` reads in every case)."""
    return ".csv"


def window_path(design: Design) -> str:
    """The [source] path template of the batch windows."""
    return f"data/windows/{design.raw.name}_{{start:{WINDOW_FORMAT}}}{data_suffix(design)}"


def settings_source(design: Design) -> str:
    """shipml.toml."""
    training = [
        f'data = "data/train{data_suffix(design)}"',
        f"target = {json.dumps(design.label)}",
        f'task = "{design.task}"',
        f"prediction = {json.dumps(design.prediction_column)}",
    ]
    if design.holdout_fraction is not None:
        training.append(f"holdout_fraction = {design.holdout_fraction}")
    return render(
        "shipml.toml.tmpl",
        name=json.dumps(design.name),
        window_path=json.dumps(window_path(design)),
        training="\n".join(training),
        every=f"{int(WINDOW.total_seconds() // 60)}m",
    )


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _write_data(design: Design, directory: Path) -> list[Path]:
    """data/train.csv (the labelled rows) and one batch window (every row, without the label)."""
    raw, training = design.raw.frame, design.raw.training
    train = directory / "data" / "train.csv"
    train.parent.mkdir(parents=True, exist_ok=True)
    unchanged = len(training) == len(raw) and training[design.label].equals(raw[design.label])
    renamed = set(raw.columns) & set(design.renames)
    if design.raw.copy_as_is and design.raw.source is not None and unchanged and not renamed:
        shutil.copyfile(design.raw.source, train)
    else:
        training.rename(columns=design.renames).to_csv(train, index=False)
    window = directory / window_path(design).format(start=WINDOW_START)
    window.parent.mkdir(parents=True, exist_ok=True)
    raw.drop(columns=[design.label]).rename(columns=design.renames).to_csv(window, index=False)
    return [train, window]


def _write_evidence(design: Design, directory: Path) -> list[Path]:
    """The notebook's own results, for tests/test_notebook.py."""
    directory.mkdir(parents=True, exist_ok=True)
    evidence, renames = design.evidence, design.renames
    files: dict[str, bytes] = {}
    for step, given, expected in evidence.transform_cases:
        files[f"{step}_input.pkl"] = pickle.dumps(given.rename(columns=renames))
        files[f"{step}_output.pkl"] = pickle.dumps(expected.rename(columns=renames))
    files["model.pkl"] = evidence.model
    files["learned.pkl"] = evidence.learned
    files["predictions.pkl"] = pickle.dumps(evidence.expected.rename(columns=renames))
    files["model_input.pkl"] = evidence.model_input
    if evidence.fit_rows is not None:
        files["fit_rows.pkl"] = pickle.dumps(evidence.fit_rows.rename(columns=renames))
    written = []
    for name, payload in files.items():
        path = directory / name
        path.write_bytes(payload)
        written.append(path)
    rows = directory / "scored_rows.json"
    rows.write_text(json.dumps(evidence.positions), encoding="utf-8")
    return [*written, rows]


def _readme(design: Design) -> str:
    return render("README.md.tmpl", notebook=design.notebook.name, **window_values(design.name))
