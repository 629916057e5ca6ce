"""The shape of the shipml project that replaces a notebook, as plain data to write out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from shipml.notebooks.convert.adaptations import Change
from shipml.notebooks.convert.rewrite import Snippet

Task = Literal["classification", "regression"]
CLASSES_MODULE = "notebook_code"
"""The generated module holding the classes the notebook defines."""


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
    copies: bool
    """The section changes its table in place: the step works on a copy of its input."""


@dataclass(frozen=True)
class PrepareSpec:
    """`prepare(rows, learned)`: the preparation that runs inside the model, as code lines."""

    cells: tuple[int, ...]
    parameter: str
    lines: list[str]
    """Statements, each maybe several lines, at the function's indentation."""
    features: str
    label: str
    index: str


@dataclass(frozen=True)
class TrainSpec:
    """`train(rows) -> NotebookModel`: the preparation learned, then the model built and fitted."""

    cells: tuple[int, ...]
    input_contract: str
    parameter: str
    lines: list[str]
    model: str


@dataclass(frozen=True)
class PredictSpec:
    """`predict(rows, model)`: the preparation replayed, then the notebook's scoring."""

    cell: int
    parameter: str
    input_contract: str
    output_contract: str
    scoring: str
    """The statement computing the scores, from the notebook, on the prepared rows."""
    columns: dict[str, str]
    """Output column -> the expression that fills it."""
    method: str


@dataclass(frozen=True)
class RawData:
    """The training data: where the notebook got it, and the frame it had."""

    name: str
    source: Path | None
    """The file the notebook reads (None for a bundled dataset)."""
    loader: str | None
    frame: pd.DataFrame
    """The rows as the notebook had them, label as read."""
    training: pd.DataFrame
    """The rows `shipml train` reads: labelled rows, label as the model learns it."""
    copy_as_is: bool


@dataclass(frozen=True)
class Evidence:
    """The notebook's own results, for the generated tests to compare the pipeline with."""

    transform_cases: list[tuple[str, pd.DataFrame, pd.DataFrame]]
    """(step, input rows, the rows the notebook made of them), column names as in the notebook."""
    learned: bytes
    model: bytes
    model_repr: str
    positions: list[int]
    """Positions, in the window file, of the rows whose predictions are compared."""
    expected: pd.DataFrame
    """The predict step's output the notebook's own model and preparation give for them."""
    model_input: bytes
    """The notebook's model's input for them, pickled (a frame or an array)."""
    fit_rows: pd.DataFrame | None
    """The rows the notebook's model was fitted on, label included, when fitting the pipeline
    on them reproduces the notebook's model exactly."""


@dataclass(frozen=True)
class Dropped:
    """A statement of the notebook that no step needs, and why."""

    cell: int
    line: int
    text: str
    reason: str
    kind: str = ""
    """The name `shipml notebook check` gives it, when it gives it one."""


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
    classes: list[Snippet]
    class_imports: list[str]
    transforms: list[TransformSpec]
    prepare: PrepareSpec
    train: TrainSpec
    predict: PredictSpec
    contracts: list[ContractSpec]
    renames: dict[str, str]
    """Notebook column -> contract field name, for columns that are not valid field names."""
    raw_columns: list[str]
    evidence: Evidence
    model_class: str
    fit_cell: int = 0
    sections: int = 0
    code_cells: int = 0
    capture_seconds: float = 0.0
    learned_sites: int = 0
    other_models: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def contract(self) -> dict[str, ContractSpec]:
        """The contracts by name."""
        return {spec.name: spec for spec in self.contracts}
