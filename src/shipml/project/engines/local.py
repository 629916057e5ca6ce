"""The engine protocol, the local engine (this process), and choosing an engine by name."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

import pandas as pd

from shipml.contracts import Baseline
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.runner import FlowResult, Policies, StepObserver, run_flow


class Engine(Protocol):
    """Runs a flow on a frame and returns one `FlowResult`, as `run_flow` would."""

    name: str

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
        """Run `flow` on `data`."""
        ...


class LocalEngine:
    """The flow in this process, on the whole frame."""

    name = "local"

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
        """`run_flow`, unchanged."""
        return run_flow(
            flow,
            data,
            context=context,
            policies=policies,
            on_step=on_step,
            keep=keep,
            baselines=baselines,
        )


ENGINE_NAMES = ("local", "dask")


def engine_by_name(name: str, *, scheduler_address: str | None = None) -> Engine:
    """The engine called `name`: "local", or "dask" (a LocalCluster unless `scheduler_address`)."""
    if name == "local":
        if scheduler_address is not None:
            raise ValueError("a scheduler address is for the dask engine, not the local one")
        return LocalEngine()
    if name == "dask":
        from shipml.project.engines.dask import DaskEngine  # distributed takes a while to import

        return DaskEngine(scheduler_address=scheduler_address)
    raise ValueError(f"unknown engine {name!r}: expected one of {', '.join(ENGINE_NAMES)}")
