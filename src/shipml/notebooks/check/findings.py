"""The findings of `shipml notebook check`: one stable vocabulary of kinds, JSON-ready."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from shipml.notebooks.check.cells import Notebook
from shipml.notebooks.check.sections import cell_name, sections_of


class FindingKind(StrEnum):
    """What kind of trap a finding is; the values are stable (scripts may match on them)."""

    # from the saved execution counts
    OUT_OF_ORDER = "out_of_order"
    NOT_EXECUTED = "not_executed"
    EXECUTION_GAP = "execution_gap"
    # from the cells' source
    SYNTAX_ERROR = "syntax_error"
    UNDEFINED_NAME = "undefined_name"
    USED_BEFORE_DEFINITION = "used_before_definition"
    USED_AFTER_DELETE = "used_after_delete"
    IPYTHON_NAME = "ipython_name"
    REDEFINED_AFTER_USE = "redefined_after_use"
    FUNCTION_READS_GLOBAL = "function_reads_global"
    FUNCTION_MUTATES_GLOBAL = "function_mutates_global"
    ABSOLUTE_PATH = "absolute_path"
    STAR_IMPORT = "star_import"
    MAGIC = "magic"
    SHELL_COMMAND = "shell_command"
    # from running the notebook (--run)
    RUN_ERROR = "run_error"
    RUN_TIMEOUT = "run_timeout"
    # from the notebook's ML code: what stops `convert`
    LABEL_IN_FEATURES = "label_in_features"
    BATCH_DEPENDENT = "batch_dependent"
    MODEL_CHOSEN_BY_CODE = "model_chosen_by_code"
    MODEL_FITTED_IN_LOOP = "model_fitted_in_loop"
    ROWS_BY_POSITION = "rows_by_position"
    MODEL_BUILT_FROM_DATA = "model_built_from_data"
    INPUT_NOT_FROM_DATA = "input_not_from_data"
    SPLIT_TWICE = "split_twice"
    # notes: what `convert` rewrites or leaves out (not traps)
    LEARNED_FROM_DATA = "learned_from_data"
    MUTATED_ACROSS_CELLS = "mutated_across_cells"
    SPLIT_REPLACED = "split_replaced"
    OTHER_MODELS = "other_models"
    FILE_WRITE = "file_write"
    LABEL_TRANSFORMED = "label_transformed"
    LABEL_FILTER = "label_filter"
    CLASS_MOVED = "class_moved"
    LABEL_DROPPED = "label_dropped"
    ROWS_RENUMBERED = "rows_renumbered"
    ROWS_PICKED = "rows_picked"
    NO_TRAINING_DATA = "no_training_data"
    NO_SCORING = "no_scoring"


class Finding(BaseModel):
    """One trap at one cell: `cell` is the 1-based position from the top, markdown included."""

    kind: FindingKind
    cell: int
    cell_name: str
    section: str | None = None
    line: int | None = None
    names: list[str] = Field(default_factory=list)
    message: str


class RunSummary(BaseModel):
    """How the notebook ran top to bottom in a fresh kernel (`--run`)."""

    kernel: str
    ok: bool
    cells_run: int
    seconds: float


class NotebookReport(BaseModel):
    """Everything `shipml notebook check` found in one notebook.

    `findings` are traps (they make the report unclean); `notes` say what `shipml notebook
    convert` will rewrite or leave out, under the same names it uses."""

    notebook: str
    code_cells: int
    findings: list[Finding] = Field(default_factory=list)
    notes: list[Finding] = Field(default_factory=list)
    run: RunSummary | None = None

    @property
    def clean(self) -> bool:
        """True when nothing was found."""
        return not self.findings


class FindingMaker:
    """Builds findings that carry the name and section of their cell."""

    def __init__(self, notebook: Notebook) -> None:
        self._notebook = notebook
        self._sections = sections_of(notebook)

    def __call__(
        self,
        kind: FindingKind,
        cell: int,
        message: str,
        *,
        line: int | None = None,
        names: list[str] | None = None,
    ) -> Finding:
        """A finding of `kind` at `cell`."""
        return Finding(
            kind=kind,
            cell=cell,
            cell_name=cell_name(self._notebook.cell(cell)),
            section=self._sections[cell],
            line=line,
            names=names or [],
            message=message,
        )
