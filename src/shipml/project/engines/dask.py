"""`DaskEngine`: a window's flow run partitioned on a Dask cluster, merged into one result.

The window's rows are cut into consecutive slices, scattered to the workers, and each slice
runs the whole flow (transforms -> predict -> postprocess) on a worker. The partitions'
outputs, validation reports, quarantined rows and kept frames are merged in row order
(`_merge`), and the boundary policies are applied to the whole window, so the result is the
local engine's: the same output rows in the same order, the same counts and reports.

The steps must be row-local (each output row depends on its input row only), as every step
of a batch flow is meant to be; a step that looks across rows would see one slice at a time.
They should also accept an empty frame: quarantine can leave a slice with no rows.
The project's code is shipped to the workers with each run (a few kilobytes): its files as
they are on disk when the run starts, so a process that imported them and whose files were
edited since must load the project again. The model is scattered to every worker once and
kept there for as long as the engine lives, so later windows with the same model do not
ship it again. `on_step` sees each step when the partitions' results are merged, after the
workers ran them: there is no live progress per step.

Cluster: a given `Client`, the scheduler at `scheduler_address` (e.g. tcp://host:8786,
started with `dask scheduler` and `dask worker tcp://host:8786` on the machines, which need
shipml and the project's dependencies installed), or, by default, a LocalCluster of one
single-threaded worker process per core, started on first use and closed by `close()`.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Collection, Mapping
from types import TracebackType
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
from distributed import Client, Future, LocalCluster

from shipml.contracts import Baseline
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.runner import FlowResult, Policies, StepObserver
from shipml.project.engines._merge import merge_partitions
from shipml.project.engines._worker import ModelBlob, PartitionJob, ProjectCode, run_partition

CONNECT_TIMEOUT_S = 10.0


class DaskEngine:
    """Runs a flow on slices of its input on Dask workers; the result is `run_flow`'s."""

    name = "dask"

    def __init__(
        self,
        *,
        client: Client | None = None,
        scheduler_address: str | None = None,
        partitions: int | None = None,
    ) -> None:
        """`partitions`: how many slices to cut a window into (default: one per worker thread)."""
        if client is not None and scheduler_address is not None:
            raise ValueError("give a Dask client or a scheduler address, not both")
        if partitions is not None and partitions < 1:
            raise ValueError(f"partitions must be at least 1, got {partitions}")
        self.scheduler_address = scheduler_address
        self.partitions = partitions
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
        others = {key: value for key, value in context.items() if key != "model"}
        payload = (flow, others, tuple(keep), dict(baselines) if baselines else None)
        job = PartitionJob(
            key=uuid.uuid4().hex,
            code=ProjectCode.of_flow(flow),
            payload=cloudpickle.dumps(payload),
        )
        job_future = client.scatter(job, broadcast=True, hash=False)
        model = self._ship_model(client, context["model"]) if "model" in context else None
        slices = _slices(data, self.partitions or sum(client.nthreads().values()))
        rows = client.scatter(slices, hash=False)
        keys = [f"shipml-{flow.name}-{job.key[:8]}-{i}" for i in range(len(slices))]
        tasks = client.map(run_partition, rows, job=job_future, model=model, key=keys)
        outcomes = client.gather(tasks)
        return merge_partitions(flow, outcomes, policies, on_step)

    def _ship_model(self, client: Client, model: Any) -> Future[ModelBlob]:
        """The model on every worker: scattered once, reused while it stays the same model."""
        blob = ModelBlob.of(model)
        if self._model is not None and self._model[0] == blob.digest:
            return self._model[1]
        future = client.scatter(blob, broadcast=True, hash=False)
        self._model = (blob.digest, future)
        return future


def _partitionable(flow: Flow, data: pd.DataFrame | None) -> pd.DataFrame:
    """The rows to cut into slices; a clear error for flows the engine cannot partition."""
    if data is None or flow.steps[0].data_parameter is None:
        raise ValueError(
            f"the Dask engine partitions a window's input rows; flow {flow.name!r} starts "
            "with an ingest step (run it with the local engine)"
        )
    if flow.output is None:
        raise ValueError(
            f"the Dask engine runs flows that output rows; flow {flow.name!r} outputs a model"
        )
    return data


def _slices(data: pd.DataFrame, partitions: int) -> list[pd.DataFrame]:
    """`data` cut into up to `partitions` consecutive slices of nearly equal size."""
    count = max(1, min(partitions, len(data)))
    bounds = np.linspace(0, len(data), count + 1).astype(int)
    return [data.iloc[start:stop] for start, stop in itertools.pairwise(bounds)]
