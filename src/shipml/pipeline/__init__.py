"""Steps, pipelines and the runner: the same step functions for training, batch and online."""

from shipml.pipeline.pipeline import Flow, Pipeline, PipelineDefinitionError
from shipml.pipeline.runner import (
    BoundaryOutcome,
    BoundaryPolicy,
    FlowFailed,
    FlowResult,
    Policies,
    StepObserver,
    StepTiming,
    run_flow,
)
from shipml.pipeline.step import Step, StepDefinitionError, step

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
