"""Compile a Pydantic model once into the plan the validator runs."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter

from shipml.contracts._fields import FieldSpec, list_of, read_fields, validators_read_rows

RowMode = Literal["none", "after", "all"]


@dataclass(frozen=True)
class Contract:
    """A model compiled for columnar validation."""

    model: type[BaseModel]
    fields: tuple[FieldSpec, ...]
    extra: Literal["ignore", "allow", "forbid"]
    # "none": columns decide; "after": model validators (and `model_post_init`) then run on
    # the rows that pass;
    # "all": Pydantic validates whole rows (the row is reshaped or read as a whole).
    row_mode: RowMode
    rows_adapter: TypeAdapter[list[Any]] = field(repr=False)

    @property
    def name(self) -> str:
        """The model's name."""
        return self.model.__name__

    @property
    def columns(self) -> list[str]:
        """The columns the contract reads: one per field (its alias, if it has one)."""
        return [f.column for f in self.fields]

    @property
    def field_names(self) -> list[str]:
        """The fields' names: the columns of the valid frame."""
        return [f.name for f in self.fields]


@functools.lru_cache(maxsize=1024)
def compile_contract(model: type[BaseModel]) -> Contract:
    """The compiled plan for `model` (cached: a model is compiled once)."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"a contract is a Pydantic model class, not {model!r}")
    return Contract(
        model=model,
        fields=tuple(read_fields(model)),
        extra=model.model_config.get("extra") or "ignore",
        row_mode=_row_mode(model),
        rows_adapter=TypeAdapter(list_of(model)),
    )


def _row_mode(model: type[BaseModel]) -> RowMode:
    modes = {d.info.mode for d in model.__pydantic_decorators__.model_validators.values()}
    aliased = any(f.alias or f.validation_alias for f in model.model_fields.values())
    reshaped = modes - {"after"} or aliased or model.__pydantic_root_model__
    if reshaped or validators_read_rows(model) or _typed_extras(model):
        return "all"
    # `model_post_init` runs on a built model, like an after-validator, and may reject it
    return "after" if modes or model.__pydantic_post_init__ else "none"


def _typed_extras(model: type[BaseModel]) -> bool:
    """True when extra values are validated (`__pydantic_extra__: dict[str, T]`)."""
    if model.model_config.get("extra") != "allow":
        return False
    own_classes = [c for c in model.__mro__ if issubclass(c, BaseModel) and c is not BaseModel]
    return any("__pydantic_extra__" in vars(c).get("__annotations__", {}) for c in own_classes)
