"""`Pipeline`: the roles of a project's steps, and the three flows built from them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from shipml.contracts.compat import incompatibilities
from shipml.errors import PipelineDefinitionError
from shipml.pipeline.step import Step, step

FlowName = Literal["training", "batch", "online"]


@dataclass(frozen=True)
class Flow:
    """Steps run in order on one frame; `target` is carried around the transforms to `train`."""

    name: FlowName
    steps: tuple[Step, ...]
    target: str | None = None

    @property
    def input(self) -> type[BaseModel] | None:
        """The contract of the rows this flow takes in."""
        first = self.steps[0]
        return first.output if first.data_parameter is None else first.input

    @property
    def output(self) -> type[BaseModel] | None:
        """The contract of the rows this flow gives out (None for training: it gives a model)."""
        return self.steps[-1].output


class Pipeline:
    """Named roles: ingest, transforms, train, predict, postprocess.

    One definition yields the training, batch and online flows; they share the transforms.
    """

    def __init__(
        self,
        name: str,
        *,
        transforms: Sequence[Callable[..., Any]] = (),
        train: Callable[..., Any] | None = None,
        predict: Callable[..., Any] | None = None,
        postprocess: Callable[..., Any] | None = None,
        ingest: Callable[..., Any] | None = None,
        target: str | None = None,
    ) -> None:
        if train is None or predict is None:
            missing = [role for role, s in (("train", train), ("predict", predict)) if s is None]
            raise PipelineDefinitionError(
                f"pipeline {name!r}: missing role {' and '.join(missing)}"
            )
        self.name = name
        self.ingest = step(ingest) if ingest is not None else None
        self.transforms = tuple(step(t) for t in transforms)
        self.train = step(train)
        self.predict = step(predict)
        self.postprocess = step(postprocess) if postprocess is not None else None
        self.target = target
        _check(self)

    @property
    def training(self) -> Flow:
        """ingest -> transforms -> train."""
        return Flow("training", (*self._ingest, *self.transforms, self.train), self.target)

    @property
    def batch(self) -> Flow:
        """ingest -> transforms -> predict -> postprocess."""
        return Flow("batch", (*self._ingest, *self.transforms, *self._scoring))

    @property
    def online(self) -> Flow:
        """transforms -> predict -> postprocess."""
        return Flow("online", (*self.transforms, *self._scoring))

    def flow(self, name: FlowName) -> Flow:
        """The flow called `name`."""
        return {"training": self.training, "batch": self.batch, "online": self.online}[name]

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every step, once, in role order."""
        return (*self._ingest, *self.transforms, self.train, *self._scoring)

    @property
    def _ingest(self) -> tuple[Step, ...]:
        return (self.ingest,) if self.ingest is not None else ()

    @property
    def _scoring(self) -> tuple[Step, ...]:
        return (self.predict, self.postprocess) if self.postprocess else (self.predict,)

    def __repr__(self) -> str:
        names = " -> ".join(s.name for s in (*self.transforms, *self._scoring))
        return f"Pipeline({self.name!r}: {names})"


def _check(pipeline: Pipeline) -> None:
    """Fail at definition time on repeated steps, missing contracts or mismatched boundaries."""
    seen: set[str] = set()
    for s in pipeline.steps:
        if s.name in seen:
            raise PipelineDefinitionError(
                f"pipeline {pipeline.name!r}: step {s.name!r} appears twice (a cycle)"
            )
        seen.add(s.name)
    for s in (*pipeline.transforms, pipeline.predict, *(pipeline._scoring[1:])):
        _require_contracts(pipeline.name, s, inputs=True, outputs=True)
    _require_contracts(pipeline.name, pipeline.train, inputs=True, outputs=False)
    if pipeline.ingest is not None:
        _require_contracts(pipeline.name, pipeline.ingest, inputs=False, outputs=True)
    if "model" not in pipeline.predict.context_parameters:
        raise PipelineDefinitionError(
            f"pipeline {pipeline.name!r}: predict step {pipeline.predict.name!r} "
            "needs a `model` parameter"
        )
    for flow in (pipeline.batch, pipeline.training):
        _check_chain(pipeline.name, flow)


def _require_contracts(pipeline: str, s: Step, *, inputs: bool, outputs: bool) -> None:
    if inputs and s.input is None:
        raise PipelineDefinitionError(
            f"pipeline {pipeline!r}: step {s.name!r} must annotate its data parameter "
            "as Table[Model]"
        )
    if outputs and s.output is None:
        raise PipelineDefinitionError(
            f"pipeline {pipeline!r}: step {s.name!r} must annotate its return as Table[Model]"
        )


def _check_chain(pipeline: str, flow: Flow) -> None:
    for before, after in zip(flow.steps, flow.steps[1:], strict=False):
        if before.output is None or after.input is None:
            continue
        carried = (flow.target,) if flow.target and after.name == flow.steps[-1].name else ()
        problems = incompatibilities(before.output, after.input, ignore=carried)
        if problems:
            raise PipelineDefinitionError(
                f"pipeline {pipeline!r}: {before.name} -> {after.name}: " + "; ".join(problems)
            )
