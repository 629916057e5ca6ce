"""The shape of the shipml project that replaces a notebook, as plain data to write out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from shipml.notebooks.convert.adaptations import Change
from shipml.notebooks.convert.rewrite import Snippet

FEATURE_COLUMNS = "FEATURE_COLUMNS"
Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class ContractSpec:
    """A contract to infer: its class name, the rows it is inferred from, what it describes."""

    name: str
    frame: pd.DataFrame
    description: str
    base: str | None = None
    """The contract it extends; `frame` then holds only the added columns."""


@dataclass(frozen=True)
class TransformSpec:
    """A section that becomes a transform: one table in, one table out."""

    name: str
    section: str
    cells: tuple[int, ...]
    parameter: str
    output: str
    input_contract: str
    output_contract: str
    body: list[Snippet]
    carried: tuple[str, ...]
    """Identifier columns put back from the input, so predictions can name their rows."""


@dataclass(frozen=True)
class TrainSpec:
    """The fit's section as `train(rows) -> model`."""

    section: str
    cells: tuple[int, ...]
    input_contract: str
    parameter: str
    restored: list[tuple[str, str]]
    """(notebook name, expression taking it from the rows), e.g. ("target", "rows[LABEL]")."""
    column_constants: dict[str, list[str]]
    body: list[Snippet]
    model: str
    model_annotation: str


@dataclass(frozen=True)
class PredictSpec:
    """The scoring call as `predict(features, model) -> predictions`."""

    cell: int
    parameter: str
    input_contract: str
    output_contract: str
    scoring: str
    """The statement computing the scores, from the notebook, on the step's rows."""
    columns: dict[str, str]
    """Output column -> the expression that fills it."""
    method: str


@dataclass(frozen=True)
class RawData:
    """The data file the notebook reads, and the frame it read."""

    name: str
    source: Path
    frame: pd.DataFrame
    copy_as_is: bool
    """True when the training data file can be a byte copy of the notebook's file."""


@dataclass(frozen=True)
class Evidence:
    """The notebook's own results, for the generated tests to compare the pipeline with."""

    transform_cases: list[tuple[str, pd.DataFrame, pd.DataFrame]]
    """(step, input rows, the rows the notebook made of them), column names as in the notebook."""
    labels: pd.Series | None
    """The label of each row reaching the fit in the notebook, in order."""
    fit_rows: pd.DataFrame | None
    """The rows the notebook's model was fitted on, with the label (the input of `train`)."""
    eval_rows: pd.DataFrame | None
    """Rows the notebook's model scored after the fit (its test split), as the model sees them."""
    refit_reproduces: bool | None
    model: Any
    scoring_input: pd.DataFrame
    scoring_level: Literal["raw", "features"]
    """Whether `scoring_input` holds rows of the data file (for the transforms and predict)
    or rows as the model saw them (for predict alone)."""
    expected: pd.DataFrame
    """The notebook's scored rows for `scoring_input`."""


@dataclass(frozen=True)
class Dropped:
    """A statement of the notebook that no step needs."""

    cell: int
    line: int
    text: str
    reason: str


@dataclass
class Design:
    """Everything needed to write the project."""

    name: str
    notebook: Path
    label: str
    task: Task
    holdout_fraction: float | None
    prediction_column: str
    raw: RawData
    imports: list[str]
    constants: list[Snippet]
    helpers: list[Snippet]
    transforms: list[TransformSpec]
    train: TrainSpec
    predict: PredictSpec
    contracts: list[ContractSpec]
    renames: dict[str, str]
    """Notebook column -> contract field name, for columns that are not valid field names."""
    feature_columns: list[str]
    evidence: Evidence
    fit_cell: int = 0
    sections: int = 0
    code_cells: int = 0
    capture_seconds: float = 0.0
    changes: list[Change] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)

    @property
    def contract(self) -> dict[str, ContractSpec]:
        """The contracts by name."""
        return {spec.name: spec for spec in self.contracts}
