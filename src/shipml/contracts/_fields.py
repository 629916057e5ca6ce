"""Read a Pydantic model's fields into specs the columnar checks understand."""

from __future__ import annotations

import inspect
import types
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

# Model config keys that change how a single field validates; a field under any of
# them is validated by Pydantic itself (column-level) instead of the compiled checks.
_FIELD_CONFIG_KEYS = (
    "strict",
    "str_strip_whitespace",
    "str_to_lower",
    "str_to_upper",
    "str_min_length",
    "str_max_length",
    "coerce_numbers_to_str",
    "allow_inf_nan",
    "ser_json_inf_nan",
    "val_temporal_unit",
    "regex_engine",
    "use_enum_values",
)

KINDS = ("str", "int", "float", "bool", "datetime", "date", "choice")


@dataclass(frozen=True)
class Bounds:
    """Numeric constraints, applied in Pydantic's order."""

    multiple_of: float | None = None
    le: float | None = None
    lt: float | None = None
    ge: float | None = None
    gt: float | None = None
    allow_inf_nan: bool = True

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.multiple_of, self.le, self.lt, self.ge, self.gt))


@dataclass(frozen=True)
class FieldSpec:
    """One model field as the validator sees it."""

    name: str
    kind: str | None  # one of KINDS when compiled; None when Pydantic validates it
    nullable: bool
    required: bool
    default: Any
    bounds: Bounds = Bounds()
    has_length_or_pattern: bool = False
    choices: tuple[Any, ...] = ()
    list_adapter: TypeAdapter[list[Any]] = field(default=None, repr=False)  # type: ignore[assignment]
    validators: bool = False  # has field validators (validated via the model)
    validators_read_row: bool = False  # a validator takes `info`: needs whole rows

    def default_value(self) -> Any:
        """The value Pydantic fills in when the column is absent."""
        return self.default() if callable(self.default) else self.default


def read_fields(model: type[BaseModel]) -> list[FieldSpec]:
    """A spec for every field of `model`."""
    config = _field_config(model.model_config)
    validators = _field_validators(model)
    return [
        _spec(name, info, config, validators.get(name)) for name, info in model.model_fields.items()
    ]


def _field_config(config: ConfigDict) -> ConfigDict:
    return ConfigDict(**{k: config[k] for k in _FIELD_CONFIG_KEYS if k in config})  # type: ignore[misc]


def _field_validators(model: type[BaseModel]) -> dict[str, bool]:
    """Field name -> whether any of its validators takes `info` (may read the row)."""
    found: dict[str, bool] = {}
    for decorator in model.__pydantic_decorators__.field_validators.values():
        reads_row = _takes_info(decorator.func)
        fields = decorator.info.fields
        names = model.model_fields if "*" in fields else fields
        for name in names:
            found[name] = found.get(name, False) or reads_row
    return found


def _takes_info(func: Any) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return True
    return len(params) >= 2


def _spec(
    name: str, info: FieldInfo, config: ConfigDict, validator_reads_row: bool | None
) -> FieldSpec:
    annotation = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    nullable = _accepts_none(TypeAdapter(annotation, config=config or None))
    list_adapter: TypeAdapter[list[Any]] = TypeAdapter(list[annotation], config=config or None)
    default = info.default_factory if info.default_factory is not None else info.default
    common = dict(
        name=name,
        nullable=nullable,
        required=info.is_required(),
        default=None if default is PydanticUndefined else default,
        list_adapter=list_adapter,
        validators=validator_reads_row is not None,
        validators_read_row=bool(validator_reads_row),
    )
    compiled = None if (config or validator_reads_row is not None or info.alias) else _compile(info)
    if compiled is None:
        return FieldSpec(kind=None, **common)
    kind, bounds, text_rules, choices = compiled
    return FieldSpec(
        kind=kind, bounds=bounds, has_length_or_pattern=text_rules, choices=choices, **common
    )


def _accepts_none(adapter: TypeAdapter[Any]) -> bool:
    try:
        adapter.validate_python(None)
    except ValidationError:
        return False
    return True


def _compile(info: FieldInfo) -> tuple[str, Bounds, bool, tuple[Any, ...]] | None:
    """(kind, bounds, has length/pattern rules, choices), or None when not compilable."""
    base, metadata = _strip_optional(info.annotation)
    metadata = [*metadata, *info.metadata]
    kind, choices = _kind(base)
    if kind is None:
        return None
    bounds: dict[str, Any] = {}
    text_rules = False
    for item in metadata:
        if isinstance(item, FieldInfo):
            nested = _compile_metadata(item.metadata, bounds)
            if nested is None:
                return None
            text_rules = text_rules or nested
            continue
        rule = _compile_metadata([item], bounds)
        if rule is None:
            return None
        text_rules = text_rules or rule
    if (bounds or text_rules) and not _constraints_fit(kind, bounds, text_rules):
        return None
    return kind, Bounds(**bounds), text_rules, choices


def _compile_metadata(items: list[Any], bounds: dict[str, Any]) -> bool | None:
    """Fold constraint objects into `bounds`; True if a length/pattern rule was seen."""
    text_rules = False
    for item in items:
        if isinstance(item, at.Ge | at.Gt | at.Le | at.Lt | at.MultipleOf):
            key = type(item).__name__.lower()
            key = "multiple_of" if key == "multipleof" else key
            bounds[key] = getattr(item, key)
        elif type(item).__name__ == "AllowInfNan":
            bounds["allow_inf_nan"] = item.allow_inf_nan
        elif isinstance(item, at.MinLen | at.MaxLen):
            text_rules = True
        elif type(item).__name__ == "_PydanticGeneralMetadata" and set(vars(item)) <= {
            "pattern"
        }:
            text_rules = True
        else:
            return None
    return text_rules


def _constraints_fit(kind: str, bounds: dict[str, Any], text_rules: bool) -> bool:
    numeric = kind in ("int", "float")
    if text_rules and kind != "str":
        return False
    if bounds and not numeric:
        return False
    values = [v for k, v in bounds.items() if k != "allow_inf_nan"]
    if kind == "int":
        return all(isinstance(v, int) and -(2**62) < v < 2**62 for v in values)
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _strip_optional(annotation: Any) -> tuple[Any, list[Any]]:
    """`X | None` -> X, and `Annotated[X, *meta]` -> (X, meta)."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) != 1:
            return _Unsupported, []
        annotation = args[0]
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        return base, metadata
    return annotation, []


class _Unsupported:
    pass


_SCALARS: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    datetime: "datetime",
    date: "date",
}


def _kind(base: Any) -> tuple[str | None, tuple[Any, ...]]:
    if base in _SCALARS:
        return _SCALARS[base], ()
    if get_origin(base) is Literal:
        choices = get_args(base)
    elif isinstance(base, type) and issubclass(base, Enum):
        choices = tuple(member.value for member in base)
    else:
        return None, ()
    if all(type(c) is str for c in choices) or all(type(c) is int for c in choices):
        return "choice", choices
    return None, ()
