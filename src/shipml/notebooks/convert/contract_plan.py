"""Which contracts the project needs, and the captured rows each one is inferred from.

One contract per table crossing a step boundary: the data as read (and with its label), the
output of every transform (identifier columns carried along so predictions can name their
rows), the rows `train` takes, and the scored rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shipml.notebooks.convert.frames import camel_case
from shipml.notebooks.convert.notebook_run import NotebookRun
from shipml.notebooks.convert.project_spec import ContractSpec, RawData
from shipml.notebooks.convert.stages import Stage


@dataclass(frozen=True)
class ContractPlan:
    """The contracts, and which boundary each one is for."""

    specs: list[ContractSpec]
    raw: str
    labelled_raw: str
    stage_outputs: list[str]
    train_input: str
    prediction: str
    stage_frames: list[pd.DataFrame]
    """The rows of each transform's output as the converted step makes them."""
    carried: list[tuple[str, ...]]
    """The identifier columns each transform puts back from its input."""

    @property
    def predict_input(self) -> str:
        """The contract of the rows `predict` takes: the last transform's output."""
        return self.stage_outputs[-1] if self.stage_outputs else self.raw


def plan_contracts(
    run: NotebookRun,
    raw: RawData,
    label: str,
    stages: list[Stage],
    output: Any,
    score_name: str,
    ids: list[str],
) -> ContractPlan:
    """The contracts of the project, named after the notebook's variables."""
    taken = set(run.module.names)
    labelled = raw.frame[raw.frame[label].notna()]
    raw_name = _unique(camel_case(raw.name), taken)
    specs = [
        ContractSpec(raw_name, raw.frame.drop(columns=[label]), f"A row of `{raw.name}`, as read."),
    ]
    labelled_raw = _unique(f"Labelled{raw_name}", taken)
    specs.append(
        ContractSpec(
            labelled_raw,
            labelled[[label]],
            f"A training row: a row of `{raw.name}` with its label.",
            base=raw_name,
        )
    )
    frames, carried, outputs = [], [], []
    previous = raw.frame.drop(columns=[label])
    for stage in stages:
        frame, added = _stage_frame(run, stage, previous, label, ids)
        name = _unique(camel_case(stage.output), taken)
        specs.append(
            ContractSpec(
                name,
                frame,
                f"A row of `{stage.output}` (section {run.section(stage.position)!r}).",
            )
        )
        frames.append(frame)
        carried.append(added)
        outputs.append(name)
        previous = frame
    last = outputs[-1] if outputs else raw_name
    train_input = _unique(f"Labelled{last}", taken)
    specs.append(
        ContractSpec(
            train_input, labelled[[label]], f"A row `train` takes: {last} with the label.", last
        )
    )
    prediction = _unique("Prediction", taken)
    specs.append(
        ContractSpec(
            prediction, as_frame(output, score_name), "A scored row, as the notebook scores it."
        )
    )
    run.stop_if_blocked()
    return ContractPlan(
        specs, raw_name, labelled_raw, outputs, train_input, prediction, frames, carried
    )


def as_frame(output: Any, score_name: str) -> pd.DataFrame:
    """The notebook's scores as a frame: a Series or an array becomes one named column."""
    if isinstance(output, pd.DataFrame):
        return output
    if isinstance(output, pd.Series):
        return output.to_frame(output.name if output.name is not None else score_name)
    return pd.DataFrame({score_name: np.asarray(output)})


def _stage_frame(
    run: NotebookRun, stage: Stage, previous: pd.DataFrame, label: str, ids: list[str]
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    value = run.value(stage.output, stage.position)
    cell = run.sketch.groups[stage.position].cells[-1]
    if not isinstance(value, pd.DataFrame):
        run.block(cell, None, f"`{stage.output}` is not a pandas DataFrame: steps pass tables")
        run.stop_if_blocked()
    frame = value.drop(columns=[label], errors="ignore")
    added = []
    for column in ids:
        if column in frame.columns:
            continue
        if not frame.index.isin(previous.index).all() or frame.index.has_duplicates:
            run.block(
                cell,
                None,
                f"the rows of `{stage.output}` cannot be matched with those of "
                f"`{stage.parameter}` to carry `{column}` along: keep the rows' index",
            )
            continue
        frame = frame.assign(**{column: previous[column].loc[frame.index]})
        added.append(column)
    return frame, tuple(added)


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}{number}", number + 1
    taken.add(candidate)
    return candidate
