"""`DaskEngine`: a window's flow run partitioned on a Dask cluster, merged into one result.

A batch window (`score_window`, what `run_window` calls) is cut into partitions that the
workers read themselves from the source (`shipml.io.partitions`: Parquet row groups, CSV
blocks, SQL time ranges; a source kind without partitioned reading is read here and sent in
slices). Each worker runs the whole flow on its partition, profiles the features and
predictions on the baseline's bins, and writes its output as one Parquet part
(`shipml.io.parts`; other sinks get the output through this process). What comes back is
small: counts, step timings, validation reports, quarantined rows and a profile. The reports
and counts are merged in row order (`_merge`) and the boundary policies applied to the whole
window; the profiles merge exactly (`_profiles`); the parts become the window's output when
it is committed. So the result is the local engine's: the same output rows in the same order,
the same counts, reports, quarantined rows, drift and prediction shift. A logged window's
keyed predictions are written the same way, one part per partition, into the prediction log
(`shipml.project.predictions`), committed with the output; generated prediction ids, which
need where each partition starts in the window, are written into the output's and the
log's parts by the workers at commit (`_worker.identify_part`), as the local engine gives them.

`run` is the same engine on a frame this process already holds: slices are sent to the
workers and their outputs and kept frames come back (what `Engine.run` returns).

The steps must be row-local (each output row depends on its input row only), as every step
of a batch flow is meant to be; a step that looks across rows would see one partition at a
time. Partitions without a row in the window are skipped, but steps should still accept an
empty frame: quarantine can leave a partition with no rows.
The project's code is shipped to the workers with each run (a few kilobytes): its files as
they are on disk when the run starts. The model is scattered to every worker once and kept
there for as long as the engine lives. `on_step` sees each step when the partitions' results
are merged, after the workers ran them: there is no live progress per step.

Cluster: a given `Client`, the scheduler at `scheduler_address` (e.g. tcp://host:8786,
started with `dask scheduler` and `dask worker tcp://host:8786` on the machines, which need
shipml and the project's dependencies installed, and must see the input files and the output
directory at the same paths), or, by default, a LocalCluster of one single-threaded worker
process per core, started on first use and closed by `close()`.
"""

from __future__ import annotations

import itertools
import logging
import os
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pyarrow as pa
from distributed import Client, Future, LocalCluster

from shipml.contracts import Baseline
from shipml.io import (
    DEFAULT_ROWS,
    ParquetSink,
    PartitionPlan,
    PartitionRead,
    PartsTarget,
    WrittenPart,
    align_part,
    commit_parts,
    common_schema,
    data_version,
    discard_parts,
    kept_parts,
    parts_target,
    parts_to_align,
    plan_partitions,
    review_reads,
    staged_parts,
)
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.runner import FlowResult, Policies, StepObserver
from shipml.project.engines._merge import concat_frames, merge_partitions
from shipml.project.engines._profiles import merge_profile_parts
from shipml.project.engines._worker import (
    JobPayload,
    LogParts,
    ModelBlob,
    PartitionJob,
    PartitionOutcome,
    ProjectCode,
    identify_part,
    run_partition,
    run_window_partition,
)
from shipml.project.engines.window import KEPT, ScoredWindow, WindowJob, read_window
from shipml.project.predictions import generated_ids, window_labels
from shipml.windows import Window

CONNECT_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


class DaskEngine:
    """Runs a flow on partitions of a window on Dask workers; the result is the local one's."""

    name = "dask"

    def __init__(
        self,
        *,
        client: Client | None = None,
        scheduler_address: str | None = None,
        partitions: int | None = None,
        partition_rows: int = DEFAULT_ROWS,
    ) -> None:
        """`partitions`: how many to cut a window into (default: `partition_rows` rows each,
        and for a frame already held here, one slice per worker thread)."""
        if client is not None and scheduler_address is not None:
            raise ValueError("give a Dask client or a scheduler address, not both")
        if partitions is not None and partitions < 1:
            raise ValueError(f"partitions must be at least 1, got {partitions}")
        if partition_rows < 1:
            raise ValueError(f"partition_rows must be at least 1, got {partition_rows}")
        self.scheduler_address = scheduler_address
        self.partitions = partitions
        self.partition_rows = partition_rows
        self._client = client
        self._owns_client = client is None
        self._cluster: LocalCluster | None = None
        self._model: tuple[str, Future[ModelBlob]] | None = None

    def connect(self) -> Client:
        """The Dask client, connecting (or starting a LocalCluster) on first use."""
        if self._client is not None:
            return self._client
        if self.scheduler_address is None:
            self._cluster = LocalCluster(
                n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True
            )
            self._client = Client(self._cluster)
            return self._client
        try:
            self._client = Client(self.scheduler_address, timeout=CONNECT_TIMEOUT_S)
        except OSError as error:
            raise ConnectionError(
                f"cannot reach the Dask scheduler at {self.scheduler_address}: {error}"
            ) from error
        return self._client

    def close(self) -> None:
        """Let go of the model on the workers; close the client and cluster this engine opened."""
        self._model = None
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskEngine:
        self.connect()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def run(
        self,
        flow: Flow,
        data: pd.DataFrame | None,
        *,
        context: Mapping[str, Any],
        policies: Policies,
        on_step: StepObserver | None = None,
        keep: Collection[str] = (),
        baselines: Mapping[str, Baseline] | None = None,
    ) -> FlowResult:
        """Run `flow` on slices of `data` on the workers and merge what they give back."""
        data = _partitionable(flow, data)
        client = self.connect()
        payload = JobPayload(flow, _without_model(context), tuple(keep), _plain(baselines))
        shipped = self._ship(client, payload, context)
        slices = _slices(data, self.partitions or sum(client.nthreads().values()))
        rows = client.scatter(slices, hash=False)
        keys = [f"{shipped.name}-{i}" for i in range(len(slices))]
        tasks = client.map(run_partition, rows, job=shipped.job, model=shipped.model, key=keys)
        outcomes = client.gather(tasks)
        return merge_partitions(flow, outcomes, policies, on_step)

    def score_window(self, job: WindowJob) -> ScoredWindow:
        """Score a window where its partitions are read; only small results come back."""
        _check_flow(job.flow, has_rows=job.source is not None)
        assert job.source is not None  # refused by the check otherwise
        client = self.connect()
        plan = plan_partitions(
            job.source, job.window, rows=self.partition_rows, count=self.partitions
        )
        target = None
        if isinstance(job.sink, ParquetSink):  # the workers write the parts; else it comes here
            target = parts_target(
                job.sink,
                job.pipeline,
                job.window,
                job.run_id,
                job.output_columns,
                labels_column=job.prediction_id,
            )
        log = None
        if job.log is not None:
            log_target = staged_parts(
                job.log.location, job.window, job.run_id, job.log.columns, run_column=None
            )
            log = LogParts(job.log, log_target)
        staged = [t for t in (target, log.target if log else None) if t is not None]

        def discard() -> None:
            for parts in staged:
                discard_parts(parts)

        monitoring = job.baselines.monitoring if job.baselines else None
        payload = JobPayload(
            job.flow,
            _without_model(job.context),
            KEPT,
            job.validation_baselines,
            monitoring,
            target,
            log,
        )
        try:
            shipped = self._ship(client, payload, job.context)
            outcomes, version, offsets = self._run_window(client, shipped, job, plan)
            result = merge_partitions(job.flow, outcomes, job.policies, job.on_step, offsets)
        except BaseException:
            discard()
            raise
        profile = None
        if monitoring is not None:
            profile = merge_profile_parts([o.profile for o in outcomes if o.profile is not None])
        rows_out = sum(o.rows_out for o in outcomes)
        starts = offsets or [0] * len(outcomes)
        commit = self._committer(client, job, target, log, outcomes, starts)
        version = version or result.data_version
        return ScoredWindow(result, profile, rows_out, version, commit, discard)

    def _run_window(
        self, client: Client, shipped: _Shipped, job: WindowJob, plan: PartitionPlan | None
    ) -> tuple[list[PartitionOutcome], str | None, list[int] | None]:
        """The partitions' outcomes, the data version, and where each partition's rows start.

        Partitions whose read disagrees with a whole read's column types are run again with
        the whole read's types; when the cuts cannot be trusted (a quoted value across one),
        the window is read here and sent in slices (numbered as in the window already).
        Partitions without a row in the window are left out (they ran no step).
        """
        if plan is not None:
            parts = list(plan.partitions)
            outcomes = self._map(client, shipped, parts)
            review = review_reads(plan, [_read_of(o) for o in outcomes])
            for position, casts in review.casts.items():
                [outcomes[position]] = self._map(
                    client, shipped, [parts[position]], position, casts
                )
            if review.whole is None:
                version = data_version(plan, [_read_of(o) for o in outcomes])
                ran = [o for o in outcomes if not o.skipped]
                if not ran:  # no row in the window: the flow runs once on none, as locally
                    ran = self._map(client, shipped, parts[:1], run_empty=True)
                starts = itertools.accumulate([o.result.rows_in for o in ran], initial=0)
                return ran, version, list(starts)[:-1]
            log.warning(
                "window %s is read whole, then sent in slices: %s", job.window, review.whole
            )
        frame, whole_version = read_window(job)
        assert frame is not None  # the window has a source
        slices = _slices(frame, max(1, -(-len(frame) // self.partition_rows)))
        outcomes = self._map(client, shipped, client.scatter(slices, hash=False), run_empty=True)
        return outcomes, whole_version, None

    def _map(
        self,
        client: Client,
        shipped: _Shipped,
        inputs: Sequence[Any],
        first: int = 0,
        casts: Mapping[str, str] | None = None,
        *,
        run_empty: bool = False,
    ) -> list[PartitionOutcome]:
        """Run window partitions `first`, `first + 1`, ... on the workers; their outcomes."""
        positions = list(range(first, first + len(inputs)))
        attempt = uuid.uuid4().hex[:6]
        tasks = client.map(
            run_window_partition,
            positions,
            list(inputs),
            job=shipped.job,
            model=shipped.model,
            casts=dict(casts) if casts else None,
            run_empty=run_empty,
            key=[f"{shipped.name}-{position}-{attempt}" for position in positions],
        )
        return list(client.gather(tasks))

    def _committer(
        self,
        client: Client,
        job: WindowJob,
        target: PartsTarget | None,
        log: LogParts | None,
        outcomes: Sequence[PartitionOutcome],
        starts: Sequence[int],
    ) -> Callable[[], str]:
        """What commits the output (the parts moved into place, or the frames written) and
        the log (its parts moved into place); each partition's rows start at `starts`.

        Every part is rewritten as needed before anything is moved, so that a failure there
        leaves both the output and the log as they were.
        """
        ids = job.prediction_id
        numbered = list(zip(outcomes, starts, strict=True))
        logged = [(o.logged, s) for o, s in numbered if o.logged is not None]

        def finish_log() -> None:
            if log is not None:
                _finish_parts(client, logged, ids, job.window)

        def commit_log() -> None:
            if log is not None:
                commit_parts(log.target, [part for part, _ in logged])

        if target is None:
            frames = [o.result.output for o in outcomes]
            output = concat_frames(frames)
            labels = []
            if ids is not None:  # numbered as the local engine numbers them
                labels = [
                    generated_ids(job.window, window_labels(f.index, s))
                    for f, s in zip(frames, starts, strict=True)
                ]

            def write() -> str:
                finish_log()
                rows = output.assign(**job.output_columns)
                if ids is not None:  # the frames' rows, in order
                    rows[ids] = pd.concat(labels).array
                window, run_id = job.window, job.run_id
                location = job.sink.write(rows, pipeline=job.pipeline, window=window, run_id=run_id)
                commit_log()
                return location

            return write
        written = [(o.written, s) for o, s in numbered if o.written is not None]

        def commit() -> str:
            _finish_parts(client, written, ids, job.window)
            finish_log()
            location = commit_parts(target, [part for part, _ in written])
            commit_log()
            return location

        return commit

    def _ship(self, client: Client, payload: JobPayload, context: Mapping[str, Any]) -> _Shipped:
        """The job on every worker, and the model (scattered once while it stays the same)."""
        job = PartitionJob(
            key=uuid.uuid4().hex,
            code=ProjectCode.of_flow(payload.flow),
            payload=cloudpickle.dumps(payload),
        )
        future = client.scatter(job, broadcast=True, hash=False)
        model = self._ship_model(client, context["model"]) if "model" in context else None
        return _Shipped(f"shipml-{payload.flow.name}-{job.key[:8]}", future, model)

    def _ship_model(self, client: Client, model: Any) -> Future[ModelBlob]:
        """The model on every worker: scattered once, reused while it stays the same model."""
        blob = ModelBlob.of(model)
        if self._model is not None and self._model[0] == blob.digest:
            return self._model[1]
        future = client.scatter(blob, broadcast=True, hash=False)
        self._model = (blob.digest, future)
        return future


def _finish_parts(
    client: Client, parts: Sequence[tuple[WrittenPart, int]], ids: str | None, window: Window
) -> None:
    """Make the parts one dataset, rewritten where they are by the workers: in one schema, and
    with the generated ids in column `ids` (each part's rows starting where it says)."""
    written = [part for part, _ in parts]
    if ids is None:
        differ, schema = parts_to_align(written)
        if differ:
            client.gather(client.map(align_part, differ, schema=schema, pure=False))
        return
    kept = kept_parts(written)
    start = {part.file: at for part, at in parts}
    common = common_schema(kept)
    assert common is not None  # a window has at least one part
    id_type = pa.Array.from_pandas(generated_ids(window, pd.RangeIndex(1))).type
    schema = common.set(common.get_field_index(ids), pa.field(ids, id_type))
    starts = [start[part.file] for part in kept]
    tasks = client.map(
        identify_part, kept, starts, schema=schema, column=ids, window=window, pure=False
    )
    client.gather(tasks)


@dataclass(frozen=True)
class _Shipped:
    """A job on the workers: the name its tasks start with, the job and the model."""

    name: str
    job: Future[PartitionJob]
    model: Future[ModelBlob] | None


def _read_of(outcome: PartitionOutcome) -> PartitionRead:
    if outcome.read is None:
        raise RuntimeError("a window partition came back without what its read found")
    return outcome.read


def _without_model(context: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in context.items() if key != "model"}


def _plain(baselines: Mapping[str, Baseline] | None) -> dict[str, Baseline] | None:
    return dict(baselines) if baselines else None


def _partitionable(flow: Flow, data: pd.DataFrame | None) -> pd.DataFrame:
    """The rows to cut into slices; a clear error for flows the engine cannot partition."""
    _check_flow(flow, has_rows=data is not None)
    assert data is not None  # refused by the check otherwise
    return data


def _check_flow(flow: Flow, *, has_rows: bool) -> None:
    """Refuse flows that start with an ingest step or output a model, in one line."""
    if not has_rows or flow.steps[0].data_parameter is None:
        raise ValueError(
            f"the Dask engine partitions a window's input rows; flow {flow.name!r} starts "
            "with an ingest step (run it with the local engine)"
        )
    if flow.output is None:
        raise ValueError(
            f"the Dask engine runs flows that output rows; flow {flow.name!r} outputs a model"
        )


def _slices(data: pd.DataFrame, partitions: int) -> list[pd.DataFrame]:
    """`data` cut into up to `partitions` consecutive slices of nearly equal size."""
    count = max(1, min(partitions, len(data)))
    bounds = np.linspace(0, len(data), count + 1).astype(int)
    return [data.iloc[start:stop] for start, stop in itertools.pairwise(bounds)]
