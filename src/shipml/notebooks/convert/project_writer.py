"""Write a converted project: the layout `shipml init` makes, filled from the design."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pandas as pd

from shipml.notebooks.convert.contract_source import contracts_source
from shipml.notebooks.convert.project_spec import Design
from shipml.notebooks.convert.steps_source import pipeline_source, steps_source
from shipml.notebooks.convert.templating import render
from shipml.notebooks.convert.tests_source import (
    EVIDENCE_DIR,
    contract_tests_source,
    evidence_files,
    notebook_tests_source,
)
from shipml.scaffold import WINDOW, WINDOW_START, template_text, window_values

WINDOW_FORMAT = "%Y%m%dT%H%M"


def write_project(design: Design, directory: Path) -> list[Path]:
    """Write every file of the project into `directory` (absent or empty); the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = [
        _write(
            directory / "contracts.py",
            contracts_source(design.contracts, design.renames, design.notebook.name),
        ),
        _write(directory / "steps.py", steps_source(design)),
        _write(directory / "pipeline.py", pipeline_source(design)),
        _write(directory / "shipml.toml", settings_source(design)),
        _write(directory / "dvc.yaml", _dvc_source(design)),
        _write(directory / "pytest.ini", template_text("pytest.ini.tmpl", {})),
        _write(directory / "README.md", _readme(design)),
        _write(directory / "tests" / "test_contracts.py", contract_tests_source(design)),
        _write(directory / "tests" / "test_notebook.py", notebook_tests_source(design)),
    ]
    written += _write_data(design, directory)
    written += _write_evidence(design, directory / EVIDENCE_DIR)
    return written


def data_suffix(design: Design) -> str:
    """The format of the project's data files: the notebook's, CSV unless it read Parquet."""
    return ".parquet" if design.raw.source.suffix.lower() in (".parquet", ".pq") else ".csv"


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
    """data/train.* (the labelled rows as read) and one batch window (all rows, no label)."""
    suffix = data_suffix(design)
    frame = design.raw.frame
    labelled = frame[frame[design.label].notna()]
    train = directory / "data" / f"train{suffix}"
    train.parent.mkdir(parents=True, exist_ok=True)
    raw_renamed = set(frame.columns) & set(design.renames)
    if design.raw.copy_as_is and len(labelled) == len(frame) and not raw_renamed:
        shutil.copyfile(design.raw.source, train)
    else:
        _save(labelled.rename(columns=design.renames), train)
    window = directory / window_path(design).format(start=WINDOW_START)
    window.parent.mkdir(parents=True, exist_ok=True)
    _save(frame.drop(columns=[design.label]).rename(columns=design.renames), window)
    return [train, window]


def _write_evidence(design: Design, directory: Path) -> list[Path]:
    """The notebook's own results, for tests/test_notebook.py."""
    directory.mkdir(parents=True, exist_ok=True)
    evidence, renames = design.evidence, design.renames
    frames: dict[str, pd.DataFrame] = {}
    for step, given, expected in evidence.transform_cases:
        frames[f"{step}_input"] = given.rename(columns=renames)
        frames[f"{step}_output"] = expected.rename(columns=renames)
    if evidence.labels is not None:
        frames["labels"] = evidence.labels.rename(design.label).to_frame()
    if evidence.fit_rows is not None and evidence.eval_rows is not None:
        frames["fit_rows"] = evidence.fit_rows.rename(columns=renames)
        frames["eval_rows"] = evidence.eval_rows  # as the model sees them: the notebook's names
    frames["scoring_input"] = evidence.scoring_input.rename(columns=renames)
    frames["scoring_output"] = evidence.expected.rename(columns=renames)
    wanted = evidence_files(design)
    written = []
    for name, frame in frames.items():
        if f"{name}.parquet" in wanted:
            path = directory / f"{name}.parquet"
            frame.to_parquet(path)
            written.append(path)
    model = directory / "model.pkl"
    model.write_bytes(pickle.dumps(evidence.model))
    return [*written, model]


def _save(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def _dvc_source(design: Design) -> str:
    return render("dvc.yaml.tmpl", suffix=data_suffix(design))


def _readme(design: Design) -> str:
    text = template_text("README.md.tmpl", window_values(design.name))
    return text + (
        f"\nConverted from `{design.notebook.name}` by `shipml notebook convert`: CONVERSION.md "
        "says how each section became a step, what changed and what is left to do.\n"
    )
