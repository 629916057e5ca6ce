"""Compile a Pydantic model once into the plan the validator runs."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, create_model

from shipml.contracts._fields import FieldSpec, read_fields

RowMode = Literal["none", "after", "all"]


@dataclass(frozen=True)
class Contract:
    """A model compiled for columnar validation."""

    model: type[BaseModel]
    fields: tuple[FieldSpec, ...]
    extra: Literal["ignore", "allow", "forbid"]
    row_mode: RowMode  # "after": model validators run on rows that pass; "all": no compiling

    @property
    def name(self) -> str:
        return self.model.__name__

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


@functools.cache
def compile_contract(model: type[BaseModel]) -> Contract:
    """The compiled plan for `model` (cached: a model is compiled once)."""
    extra = model.model_config.get("extra") or "ignore"
    return Contract(
        model=model,
        fields=tuple(read_fields(model)),
        extra=extra,
        row_mode=_row_mode(model),
    )


def _row_mode(model: type[BaseModel]) -> RowMode:
    modes = {d.info.mode for d in model.__pydantic_decorators__.model_validators.values()}
    aliased = any(f.alias or f.validation_alias for f in model.model_fields.values())
    if modes - {"after"} or aliased or model.__pydantic_root_model__:
        return "all"  # the input is reshaped before fields are read: whole rows only
    return "after" if modes else "none"


@functools.cache
def single_field_model(model: type[BaseModel], name: str) -> type[BaseModel]:
    """`model` with every field but `name` relaxed to an optional Any (keeps its validators)."""
    relaxed: dict[str, Any] = {
        other: (Any, None) for other in model.model_fields if other != name
    }
    return create_model(f"{model.__name__}_{name}", __base__=model, **relaxed)
