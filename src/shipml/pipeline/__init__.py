"""Steps, pipelines and the runner: the same step functions for training, batch and online."""

from shipml.errors import FlowFailed, PipelineDefinitionError, StepDefinitionError
from shipml.pipeline.pipeline import Flow, Pipeline
from shipml.pipeline.runner import (
    BoundaryOutcome,
    BoundaryPolicy,
    FlowResult,
    Policies,
    StepObserver,
    StepTiming,
    run_flow,
)
from shipml.pipeline.step import Step, step

__all__ = [
    "BoundaryOutcome",
    "BoundaryPolicy",
    "Flow",
    "FlowFailed",
    "FlowResult",
    "Pipeline",
    "PipelineDefinitionError",
    "Policies",
    "Step",
    "StepDefinitionError",
    "StepObserver",
    "StepTiming",
    "run_flow",
    "step",
]
