"""What a Dask worker does for a partition: import the project's code, load the model once, run.

The user's steps live in the project's own modules (steps.py, contracts.py), which a worker
cannot import: its `sys.path` is not the driver's, and on a real cluster it is another machine.
So the driver ships their source (`ProjectCode`), and the worker writes it into its local
directory and puts that first on its import path before it unpickles the flow. The model is
shipped once per worker as bytes (`ModelBlob`, scattered to every worker) and unpickled once
per worker process; later partitions and later windows with the same model reuse it.

A window's partition (`run_window_partition`) is read on the worker (`shipml.io.partitions`),
run, profiled on the baseline's bins, and its output written there as one Parquet part
(`shipml.io.parts`), its keyed predictions as one part of the prediction log when the window
is logged: what goes back is counts, timings, reports, quarantined rows and a profile, never
the kept frames or the output. Generated prediction ids need the window's row numbers, known
only once every partition ran: a part keeps its rows' labels in the id column until
`identify_part` rewrites them into ids at commit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import pickle
import sys
import sysconfig
import threading
import traceback
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import pandas as pd
import pyarrow as pa
from distributed import get_worker

from shipml.contracts import Baseline
from shipml.errors import FlowFailed
from shipml.io import (
    Partition,
    PartitionRead,
    PartsTarget,
    WrittenPart,
    align_part,
    read_partition,
    write_part,
)
from shipml.monitoring import MonitoringBaseline
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.runner import BoundaryPolicy, FlowResult, Policies, run_flow
from shipml.project.engines._profiles import ProfilePart, profile_part
from shipml.project.observe import FEATURES, PREDICTIONS
from shipml.project.predictions import WindowLog, generated_ids, row_labels, window_labels
from shipml.windows import Window

# Partitions set every invalid row aside: the policy is applied to the whole window's counts.
SET_ASIDE_ALL = Policies(default=BoundaryPolicy("quarantine", 1.0))
_KEPT_MODELS = 2  # models kept per worker: the current one and the one it replaced
_KEPT_JOBS = 4


@dataclass(frozen=True)
class ProjectCode:
    """The source files of the project whose modules define a flow's steps and contracts."""

    digest: str
    modules: frozenset[str]  # top-level module and package names
    files: Mapping[str, bytes]  # path relative to the project root -> content

    @classmethod
    def of_flow(cls, flow: Flow) -> ProjectCode:
        """The `.py` files beside the modules defining `flow`'s steps (installed code excluded)."""
        roots = sorted({root for root in map(_project_root, _defining_modules(flow)) if root})
        files = {
            path.relative_to(root).as_posix(): path.read_bytes()
            for root in roots
            for path in _python_files(root)
        }
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + files[name] + b"\0")
        modules = frozenset(name.split("/", 1)[0].removesuffix(".py") for name in files)
        return cls(digest.hexdigest()[:16], modules, files)


@dataclass(frozen=True)
class ModelBlob:
    """A pickled model and the digest of its bytes (which names it in worker caches)."""

    digest: str
    data: bytes

    @classmethod
    def of(cls, model: Any) -> ModelBlob:
        """Pickle `model` (cloudpickle: a class defined in a script travels too)."""
        data = cloudpickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(hashlib.sha256(data).hexdigest()[:16], data)


@dataclass(frozen=True)
class JobPayload:
    """The flow and what runs it, besides the model; unpickled on the worker after the code."""

    flow: Flow
    context: Mapping[str, Any]  # without the model
    keep: tuple[str, ...]
    baselines: Mapping[str, Baseline] | None  # for the validation diagnoses
    monitoring: MonitoringBaseline | None = None  # profile the kept frames on its bins
    output: PartsTarget | None = None  # write the output there instead of returning it
    log: LogParts | None = None  # write the keyed predictions there (the prediction log)


@dataclass(frozen=True)
class LogParts:
    """Where a window's partitions write their part of the prediction log, and how it is keyed."""

    log: WindowLog
    target: PartsTarget


@dataclass(frozen=True)
class PartitionJob:
    """What every partition of one run needs besides its rows and the model."""

    key: str
    code: ProjectCode
    payload: bytes  # cloudpickle of a JobPayload


@dataclass(frozen=True)
class PartitionFailure:
    """A step that raised on a partition (or gave a boundary something other than a frame)."""

    step: str
    boundary: str | None
    error: BaseException
    traceback: str


@dataclass
class PartitionOutcome:
    """A partition's flow result; `last_input_kept` names the kept frame that is `last_input`.

    A window's partition also gives its profile, the part it wrote, and what its read found
    (when the read found a problem the flow did not run: `result` is empty).
    """

    result: FlowResult
    failure: PartitionFailure | None = None
    last_input_kept: str | None = None
    profile: ProfilePart | None = None
    written: WrittenPart | None = None
    logged: WrittenPart | None = None  # its part of the prediction log
    read: PartitionRead | None = None
    skipped: bool = False  # no row of the window: the flow did not run

    @property
    def rows_out(self) -> int:
        """Rows in the partition's output, returned or written."""
        return self.written.rows if self.written is not None else self.result.rows_out


class _WorkerState:
    """One worker process's project code, models and jobs, shared by its threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.code: ProjectCode | None = None
        self.code_directory: str | None = None
        self.models: OrderedDict[str, Any] = OrderedDict()
        self.jobs: OrderedDict[str, JobPayload] = OrderedDict()
        self.model_loads = 0


_state = _WorkerState()


def run_partition(
    rows: pd.DataFrame, *, job: PartitionJob, model: ModelBlob | None
) -> PartitionOutcome:
    """Run the job's flow on one partition, every invalid row set aside (on a Dask worker)."""
    _use_code(job.code)
    payload = _load_job(job)
    try:
        result = _run(payload, rows, model)
    except FlowFailed as failed:
        return _failed(failed)
    return _slimmed(result)


def run_window_partition(
    index: int,
    rows: Partition | pd.DataFrame,
    *,
    job: PartitionJob,
    model: ModelBlob | None,
    casts: Mapping[str, str] | None = None,
    run_empty: bool = False,
) -> PartitionOutcome:
    """Read, run, profile and write partition `index` of a window (on a Dask worker).

    A partition without a row in the window is skipped (steps need not accept an empty
    frame), unless `run_empty`: the window has no row at all and the flow runs once on none.
    """
    _use_code(job.code)
    payload = _load_job(job)
    read = None
    if not isinstance(rows, pd.DataFrame):
        read = read_partition(rows, casts)
        if read.frame is None:
            return PartitionOutcome(FlowResult(), read=read)
        rows = read.frame
    facts = read.facts() if read is not None else None
    if rows.empty and not run_empty:
        return PartitionOutcome(FlowResult(), read=facts, skipped=True)
    try:
        result = _run(payload, rows, model)
    except FlowFailed as failed:
        return dataclasses.replace(_failed(failed), read=facts)
    profile = profile_part(payload.monitoring, result.kept) if payload.monitoring else None
    written = None
    if payload.output is not None:
        written = write_part(payload.output, index, result.output)
        result.output = None
    logged = None
    if payload.log is not None:
        keyed = payload.log.log.keyed(
            result.kept[PREDICTIONS], result.kept.get(FEATURES), ids=row_labels
        )
        logged = write_part(payload.log.target, index, keyed)
    result.kept, result.last_input = {}, None
    return PartitionOutcome(result, profile=profile, written=written, logged=logged, read=facts)


def identify_part(
    part: WrittenPart, start: int, *, schema: pa.Schema, column: str, window: Window
) -> None:
    """Turn the row labels a part keeps in `column` into the window's generated ids, its rows
    starting at row `start` of the window, and write it in `schema` (on a worker)."""

    def with_ids(table: pa.Table) -> pa.Table:
        labels = window_labels(pd.Index(table.column(column).to_pandas()), start)
        ids = pa.Array.from_pandas(generated_ids(window, labels))
        return table.set_column(table.schema.get_field_index(column), column, ids)

    align_part(part, schema, with_ids)


def model_loads() -> int:
    """How many models this worker process has unpickled (each is then reused)."""
    return _state.model_loads


def _use_code(code: ProjectCode) -> None:
    """Make `code` the project this worker imports from, forgetting another project's modules.

    A worker runs one project at a time: two projects' partitions on the threads of one
    worker at the same moment would import each other's modules.
    """
    with _state.lock:
        if _state.code is not None and _state.code.digest == code.digest:
            return
        directory = Path(get_worker().local_directory) / "shipml-code" / code.digest
        for name, content in code.files.items():
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        shadowed = code.modules | (_state.code.modules if _state.code else frozenset())
        for name in list(sys.modules):
            if name.partition(".")[0] in shadowed:
                del sys.modules[name]
        if _state.code_directory in sys.path:
            sys.path.remove(_state.code_directory)
        sys.path.insert(0, str(directory))
        importlib.invalidate_caches()
        _state.code, _state.code_directory = code, str(directory)
        _state.jobs.clear()
        _state.models.clear()  # they may be instances of the other project's classes


def _load_job(job: PartitionJob) -> JobPayload:
    with _state.lock:
        if job.key not in _state.jobs:
            _state.jobs[job.key] = pickle.loads(job.payload)
            _forget_oldest(_state.jobs, _KEPT_JOBS)
        return _state.jobs[job.key]


def _run(payload: JobPayload, rows: pd.DataFrame, model: ModelBlob | None) -> FlowResult:
    """The flow on `rows`, every invalid row set aside."""
    context = dict(payload.context)
    if model is not None:
        context["model"] = _load_model(model)
    return run_flow(
        payload.flow,
        rows,
        context=context,
        policies=SET_ASIDE_ALL,
        keep=payload.keep,
        baselines=payload.baselines,
    )


def _failed(failed: FlowFailed) -> PartitionOutcome:
    error = _portable(failed.error)
    failure = PartitionFailure(failed.step, failed.boundary, error, failed.traceback)
    return PartitionOutcome(_without_frames(failed.result), failure)


def _load_model(blob: ModelBlob) -> Any:
    with _state.lock:
        if blob.digest not in _state.models:
            _state.models[blob.digest] = pickle.loads(blob.data)
            _state.model_loads += 1
            _forget_oldest(_state.models, _KEPT_MODELS)
        return _state.models[blob.digest]


def _forget_oldest(cache: OrderedDict[str, Any], size: int) -> None:
    while len(cache) > size:
        cache.popitem(last=False)


def _slimmed(result: FlowResult) -> PartitionOutcome:
    """The outcome without a second copy of `last_input` when it is also a kept frame."""
    for name, frame in result.kept.items():
        if frame is result.last_input:
            result.last_input = None
            return PartitionOutcome(result, last_input_kept=name)
    return PartitionOutcome(result)


def _without_frames(result: FlowResult) -> FlowResult:
    """A failed partition's result: counts, timings and reports (its frames are not used)."""
    result.kept, result.last_input, result.output = {}, None, None
    return result


def _portable(error: BaseException) -> BaseException:
    """`error`, or a RuntimeError with its type and message when it cannot be pickled."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        detail = "".join(traceback.format_exception_only(error)).strip()
        return RuntimeError(f"{detail} (the original exception could not be pickled)")
    return error


def _defining_modules(flow: Flow) -> Iterable[str]:
    for s in flow.steps:
        yield s.func.__module__
        for contract in (s.input, s.output):
            if contract is not None:
                yield contract.__module__


def _project_root(module_name: str) -> Path | None:
    """The directory a module was imported from, unless it is installed (or a script)."""
    top = module_name.partition(".")[0]
    module = sys.modules.get(top)
    file = getattr(module, "__file__", None)
    if top in ("__main__", "shipml") or file is None:
        return None
    path = Path(file).resolve()
    root = path.parent.parent if path.name == "__init__.py" else path.parent
    return None if _is_installed(root) else root


def _is_installed(directory: Path) -> bool:
    """Whether `directory` is in the interpreter's library folders (workers have it too)."""
    paths = sysconfig.get_paths()
    keys = ("stdlib", "platstdlib", "purelib", "platlib")
    libraries = {Path(paths[key]).resolve() for key in keys}
    return any(directory.is_relative_to(library) for library in libraries)


def _python_files(root: Path) -> list[Path]:
    """The project's modules: `*.py` in `root`, and every `*.py` of its packages."""
    files = sorted(root.glob("*.py"))
    for package in sorted(p.parent for p in root.glob("*/__init__.py")):
        files += sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    return files
