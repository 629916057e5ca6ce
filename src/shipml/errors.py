"""Every error shipml raises, in one tree.

Each error carries the one line a user should read (its message) and the exit code the
CLI ends with (`exit_code`). The CLI catches `ShipmlError` once per command.

```
ShipmlError
├── UsageError                  cannot start: fix the input and try again (exit 2)
│   ├── ConfigError             shipml.toml or a SHIPML_* variable
│   ├── ProjectError            the project directory or its pipeline object
│   ├── PipelineDefinitionError a Pipeline whose steps do not fit together
│   ├── StepDefinitionError     a step function without usable contracts
│   ├── WindowInputError        a duration, time, cron expression or window bound
│   ├── UnusableInput           a data file that cannot be read as a table
│   ├── ContractInferenceError  a file no contract can be drafted from
│   ├── BadContractReference    `module:Model` names no Pydantic model
│   ├── ScaffoldError           `shipml init` cannot write the project
│   ├── UnreadableNotebook      a file that is not a notebook of Python cells
│   ├── NotebookRunUnavailable  `notebook check --run` cannot start a kernel
│   ├── OutputUnusable          `notebook convert --out` cannot receive the project
│   ├── NotConvertible          a notebook that cannot be converted, cell by cell (exit 1)
│   ├── ServingError            the server cannot start
│   ├── TrainingError           training cannot start or be evaluated
│   ├── RegistryError           the model registry, or a model version or alias in it
│   ├── MonitoringError         input the monitoring math cannot use
│   ├── LabelsError             labels or prediction keys that cannot be joined
│   └── StoreError              the run store
│       ├── StoreUnavailable    the database cannot be reached or opened
│       ├── RunNotFound         no run with that id
│       └── AlertNotFound       no alert with that id
└── RunFailed                   ran and failed: see the run's record (exit 1)
    ├── ContractViolation       rows broke a contract under the `fail` policy
    ├── FlowFailed              a step raised, or a boundary rejected its rows
    ├── WindowFailed            a batch window's run failed (recorded in the store)
    ├── CriticalAlert           a window raised a critical alert, `fail_on_critical` set
    ├── SourceError             a window's input could not be read
    │   └── MissingInput        a window's input file is not there (yet)
    │       ├── IncompleteInput some of a window's files are there, not all
    │       └── EmptyInput      a window's input holds no rows
    ├── SinkError               a window's output could not be written
    ├── ExportError             an Airflow DAG file cannot be written
    ├── StagingError            a split window's staged files are missing or do not fit
    ├── StagedStepError         a step that failed in an earlier Airflow task
    ├── ScheduleChanged         the schedule differs from the one a DAG was exported with
    ├── PromotionRefused        the promotion gate refused a model version (recorded)
    └── ProbeTimeout            a readiness probe did not answer in time
ApiError (a ShipmlError)        a request answered with an HTTP error, not predictions
```

Errors that Python code may reasonably catch by their built-in meaning keep that base too
(`PipelineDefinitionError` is a `ValueError`, `RunNotFound` a `LookupError`).
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipml.contracts.report import ValidationReport
    from shipml.pipeline.runner import FlowResult
    from shipml.project.batch import WindowOutcome
    from shipml.windows import Window

EXIT_FAILED = 1
EXIT_UNUSABLE = 2


class ShipmlError(Exception):
    """The root of every error shipml raises; the message is one line for the user."""

    exit_code = EXIT_FAILED


class UsageError(ShipmlError):
    """shipml cannot start with this input, configuration, project or definition."""

    exit_code = EXIT_UNUSABLE


class RunFailed(ShipmlError):
    """shipml ran and the run failed; the run's record says what happened."""

    exit_code = EXIT_FAILED


# Cannot start


class ConfigError(UsageError):
    """A project configuration that cannot be used; the message names the key and the fix."""


class ProjectError(UsageError):
    """A project that cannot be loaded; the message says what to fix."""


class PipelineDefinitionError(UsageError, ValueError):
    """A pipeline whose steps do not fit together; raised when it is defined."""


class StepDefinitionError(UsageError, TypeError):
    """A function that cannot be a step: a missing or unusable contract annotation."""


class WindowInputError(UsageError, ValueError):
    """A duration, date/time, cron expression or window bound that cannot be used."""


class UnusableInput(UsageError):
    """A data file that cannot be read as a table; the message is one line for the user."""


class ContractInferenceError(UsageError, ValueError):
    """A frame no contract can be drafted from (no columns, unusable column names)."""


class BadContractReference(UsageError):
    """`module:Model` does not name an importable Pydantic model; the message is one line."""


class ScaffoldError(UsageError):
    """A project that cannot be created where it was asked for."""


class UnreadableNotebook(UsageError):
    """A file that cannot be read as a Jupyter notebook of Python cells."""


class NotebookRunUnavailable(UsageError):
    """`--run` cannot start: the optional packages or the kernel are missing."""


class OutputUnusable(UsageError):
    """The output directory cannot receive the project; the message says why."""


@dataclass(frozen=True)
class Blocker:
    """A reason why a notebook cell cannot be converted, at a line of that cell when known.

    `kind` is the name `shipml notebook check` gives the same problem (a FindingKind value).
    """

    cell: int
    line: int | None
    reason: str
    kind: str = "not_convertible"

    def __str__(self) -> str:
        where = f"cell {self.cell}" + (f" line {self.line}" if self.line else "")
        return f"{where}: {self.kind}: {self.reason}"


class NotConvertible(UsageError):
    """The notebook cannot be converted; `blockers` say why, cell by cell (exit 1: the CLI
    lists them; the notebook, not its file, needs changing)."""

    exit_code = 1

    def __init__(self, blockers: Sequence[Blocker]) -> None:
        self.blockers = list(blockers)
        super().__init__("; ".join(str(b) for b in self.blockers))


class ServingError(UsageError):
    """The server cannot start: no model to serve, a registry that does not answer, ..."""


class TrainingError(UsageError):
    """Training cannot start or its outputs cannot be evaluated; the message says why."""


class RegistryError(UsageError):
    """The model registry cannot be reached or has no such model, version or alias."""


class MonitoringError(UsageError, ValueError):
    """Input the monitoring math cannot use; the message is one line naming the problem."""


class LabelsError(UsageError):
    """Labels, or the keys of stored predictions, that cannot be joined."""


class StoreError(UsageError):
    """The run store: base class of its errors."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


class RunNotFound(StoreError, LookupError):
    """No run has the given id."""


class AlertNotFound(StoreError, LookupError):
    """No alert has the given id."""


# Ran and failed


class ContractViolation(RunFailed):
    """Rows broke a contract under the `fail` policy (or beyond the quarantine limit)."""

    def __init__(self, report: ValidationReport, reason: str | None = None) -> None:
        self.report = report
        self.reason = reason
        super().__init__((f"{reason}\n" if reason else "") + report.summary())


class FlowFailed(RunFailed):
    """A step raised or a boundary rejected its rows; `result` holds what happened before."""

    def __init__(
        self, step: str, error: BaseException, result: FlowResult, boundary: str | None = None
    ) -> None:
        self.step = step
        self.error = error
        self.boundary = boundary
        self.result = result
        self.traceback = "".join(traceback.format_exception(error))
        where = f"boundary {boundary}" if boundary else f"step {step}"
        super().__init__(f"{where} failed: {type(error).__name__}: {error}")


class WindowFailed(RunFailed):
    """A window's run failed; it is recorded in the store with its step, error and traceback."""

    def __init__(self, outcome: WindowOutcome, cause: BaseException) -> None:
        self.outcome = outcome
        self.cause = cause
        super().__init__(f"window {outcome.window} failed (run {outcome.run_id}): {outcome.error}")


class PromotionRefused(RunFailed):
    """The promotion gate refused a model version; the refusal is recorded in the run store.

    `move` is the `project.promotion.AliasMove` of the refusal (its record and verdict).
    """

    def __init__(self, message: str, move: Any = None) -> None:
        self.move = move
        super().__init__(message)


class CriticalAlert(RunFailed):
    """A window ran, but raised a critical alert and `[monitoring] fail_on_critical` is set."""

    def __init__(self, outcome: WindowOutcome) -> None:
        self.outcome = outcome
        super().__init__(f"window {outcome.window} raised a critical alert: {outcome.alerts}")


class SourceError(RunFailed):
    """A window's input could not be read; the message is one line for the user."""


class MissingInput(SourceError):
    """A window's input file is not there (yet); the scheduler retries on this."""

    def __init__(self, location: str, window: Window) -> None:
        self.location = location
        self.window = window
        super().__init__(f"no input for window {window}: {location} does not exist")


class IncompleteInput(MissingInput):
    """Some of the files a window reads are there, not all (yet)."""

    def __init__(self, location: str, window: Window, present: int, expected: int) -> None:
        self.location = location
        self.window = window
        SourceError.__init__(
            self,
            f"input of window {window} is incomplete: {location} does not exist "
            f"({present} of the window's {expected} files are there)",
        )


class EmptyInput(MissingInput):
    """A window's input holds no rows, and `[source] allow_empty` is not set."""

    def __init__(self, location: str, window: Window, problem: str) -> None:
        self.location = location
        self.window = window
        SourceError.__init__(
            self,
            f"no rows for window {window}: {problem}; set [source] allow_empty = true if "
            "windows without rows are expected",
        )


class SinkError(RunFailed):
    """An output that could not be written; the message is one line for the user."""


class ExportError(RunFailed):
    """A DAG file that cannot be written; the message says why."""


class StagingError(RunFailed):
    """A split window whose staged files are missing or do not fit together."""


class StagedStepError(RunFailed):
    """A step that failed in an earlier task; the message is that task's error."""


class ScheduleChanged(RunFailed):
    """The project's schedule is not the one its DAG file was exported with."""


class ProbeTimeout(RunFailed):
    """The call did not answer in time (it may still be running)."""


# Answered over HTTP


class ApiError(ShipmlError):
    """A request that cannot be answered with predictions; it becomes a JSON error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def without_password(uri: str) -> str:
    """`uri` (or any text) with the password of each user:password@ part masked."""
    return re.sub(r"(//[^/:@]+):[^/@]*@", r"\1:***@", uri)
