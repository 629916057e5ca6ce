"""Read a Pydantic model's fields into specs the columnar checks understand."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum, Flag
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin

import annotated_types as at
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WrapValidator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from shipml.contracts.dates import DateFormat

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
    "val_temporal_unit",
    "regex_engine",
)
# Keys the adapters need to be built at all, without changing how a value validates.
_ADAPTER_CONFIG_KEYS = ("arbitrary_types_allowed",)

_VALIDATOR_MODES = {
    "after": AfterValidator,
    "before": BeforeValidator,
    "plain": PlainValidator,
    "wrap": WrapValidator,
}

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
        """True when at least one of the numeric limits is set."""
        return any(v is not None for v in (self.multiple_of, self.le, self.lt, self.ge, self.gt))


@dataclass(frozen=True, kw_only=True)
class FieldSpec:
    """One model field as the validator sees it."""

    name: str
    column: str  # the key Pydantic reads the field from: its alias if it has one, else its name
    kind: str | None  # one of KINDS when compiled; None when Pydantic validates it
    nullable: bool
    required: bool
    default: Any = None
    default_factory: Callable[[], Any] | None = None
    validate_default: bool = False
    bounds: Bounds = Bounds()
    has_length_or_pattern: bool = False
    choices: tuple[Any, ...] = ()
    choice_error: tuple[str, str] = ("", "")  # Pydantic's (rule, message) for other values
    date_format: DateFormat | None = None  # the declared format(s) of a date/datetime field
    # Validates a list of this field's values as Pydantic would, field validators included.
    list_adapter: TypeAdapter[list[Any]] = field(repr=False)

    def default_value(self) -> Any:
        """The value Pydantic fills in when the column is absent."""
        return self.default_factory() if self.default_factory is not None else self.default


def read_fields(model: type[BaseModel]) -> list[FieldSpec]:
    """A spec for every field of `model`."""
    return [
        _spec(name, info, model.model_config, _field_validators(model, name))
        for name, info in model.model_fields.items()
    ]


def _field_config(config: ConfigDict) -> ConfigDict:
    """The part of a model's config that changes how its fields validate."""
    # ConfigDict is a TypedDict: a dict comprehension over its keys is not one to mypy.
    return cast(ConfigDict, {k: config.get(k) for k in _FIELD_CONFIG_KEYS if k in config})


def _adapter_config(config: ConfigDict) -> ConfigDict:
    """The config of a field's list adapter: Enum members come out as their values."""
    extra = {k: config.get(k) for k in _ADAPTER_CONFIG_KEYS if k in config}
    return cast(ConfigDict, {**_field_config(config), **extra, "use_enum_values": True})


def validators_read_rows(model: type[BaseModel]) -> bool:
    """True when a field validator or default factory may read the other fields of the row.

    Validators that take `info` see the fields validated before theirs in `info.data` only
    when Pydantic validates the whole row: decorated ones (`@field_validator`) and those in
    an annotation (`Annotated[int, AfterValidator(f)]`, at any depth) alike.
    """
    decorators = model.__pydantic_decorators__.field_validators.values()
    takes_info = any(_takes_info(d.func, d.info.mode) for d in decorators)
    for info in model.model_fields.values():
        items = [*info.metadata, *_annotated_metadata(info.annotation)]
        takes_info = takes_info or any(_validator_takes_info(item) for item in items)
    return takes_info or any(
        getattr(f, "default_factory_takes_validated_data", False)
        for f in model.model_fields.values()
    )


def _annotated_metadata(annotation: Any) -> Iterator[Any]:
    """Every `Annotated` metadata item within `annotation` (inside unions, lists, ...)."""
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        yield from metadata
        yield from _annotated_metadata(base)
        return
    for argument in get_args(annotation):
        yield from _annotated_metadata(argument)


def _validator_takes_info(item: Any) -> bool:
    """Whether a metadata item is (or holds) a validator function that takes `info`."""
    if isinstance(item, FieldInfo):
        return any(_validator_takes_info(inner) for inner in item.metadata)
    for mode, validator in _VALIDATOR_MODES.items():
        if isinstance(item, validator):
            return _takes_info(getattr(item, "func", None), mode)
    return False


def _field_validators(model: type[BaseModel], name: str) -> list[Any]:
    """The model's validators of field `name`, as Annotated metadata, in Pydantic's order."""
    return [
        _VALIDATOR_MODES[decorator.info.mode](decorator.func)
        for decorator in model.__pydantic_decorators__.field_validators.values()
        if name in decorator.info.fields or "*" in decorator.info.fields
    ]


def _takes_info(func: Any, mode: str) -> bool:
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return True
    return len(params) >= (3 if mode == "wrap" else 2)


def _spec(name: str, info: FieldInfo, config: ConfigDict, validators: list[Any]) -> FieldSpec:
    metadata = [*info.metadata, *validators]
    annotation = Annotated[info.annotation, *metadata] if metadata else info.annotation
    list_adapter: TypeAdapter[list[Any]] = TypeAdapter(
        list_of(annotation), config=_adapter_config(config)
    )
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    validate_default = info.validate_default
    if validate_default is None:
        validate_default = bool(config.get("validate_default"))
    spec = FieldSpec(
        name=name,
        column=alias or name,
        kind=None,
        nullable=_accepts_none(list_adapter),
        required=info.is_required(),
        default=None if info.default is PydanticUndefined else info.default,
        # A factory taking the row's data makes the model validate row by row (see
        # validators_read_rows); the columnar path calls only factories without arguments.
        default_factory=cast(Callable[[], Any] | None, info.default_factory),
        validate_default=validate_default,
        list_adapter=list_adapter,
    )
    compiled = None if (_field_config(config) or validators) else _compile(info)
    if compiled is None:
        return spec
    kind, bounds, text_rules, choices, date_format = compiled
    return replace(
        spec,
        kind=kind,
        bounds=bounds,
        has_length_or_pattern=text_rules,
        choices=choices,
        date_format=date_format,
        choice_error=_error_for_any_other_value(list_adapter) if choices else ("", ""),
    )


def _accepts_none(list_adapter: TypeAdapter[list[Any]]) -> bool:
    try:
        list_adapter.validate_python([None])
    except ValidationError:
        return False
    return True


def _error_for_any_other_value(list_adapter: TypeAdapter[list[Any]]) -> tuple[str, str]:
    """Pydantic's (rule, message) for a value outside a Literal or Enum's choices."""
    try:
        list_adapter.validate_python([object()])
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        return first["type"], first["msg"]
    raise AssertionError("a Literal or Enum field accepted an arbitrary object")


_Compiled = tuple[str, Bounds, bool, tuple[Any, ...], DateFormat | None]


def _compile(info: FieldInfo) -> _Compiled | None:
    """(kind, bounds, has length/pattern rules, choices, date format), or None."""
    base, metadata = _strip_optional(info.annotation)
    metadata = [*metadata, *info.metadata]
    kind, choices = _kind(base)
    if kind is None:
        return None
    formats = [item for item in metadata if isinstance(item, DateFormat)]
    if len(formats) > 1 or (formats and kind not in ("date", "datetime")):
        return None
    metadata = [item for item in metadata if not isinstance(item, DateFormat)]
    bounds: dict[str, Any] = {}
    text_rules = False
    for item in metadata:
        items = item.metadata if isinstance(item, FieldInfo) else [item]
        rule = _compile_metadata(items, bounds)
        if rule is None:
            return None
        text_rules = text_rules or rule
    if (bounds or text_rules) and not _constraints_fit(kind, bounds, text_rules):
        return None
    return kind, Bounds(**bounds), text_rules, choices, (formats[0] if formats else None)


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
        elif isinstance(item, at.MinLen | at.MaxLen) or _is_pattern(item):
            text_rules = True
        else:
            return None
    return text_rules


def _is_pattern(item: Any) -> bool:
    """`Field(pattern=...)` metadata (Pydantic keeps it in a private class)."""
    return type(item).__name__ == "_PydanticGeneralMetadata" and set(vars(item)) <= {"pattern"}


def _constraints_fit(kind: str, bounds: dict[str, Any], text_rules: bool) -> bool:
    """Whether numpy can apply the limits exactly as Pydantic does."""
    numeric = kind in ("int", "float")
    if text_rules and kind != "str":
        return False
    if bounds and not numeric:
        return False
    values = [v for k, v in bounds.items() if k != "allow_inf_nan"]
    if kind == "int":
        return all(type(v) is int and -(2**62) < v < 2**62 for v in values)
    return all(type(v) is float or (type(v) is int and abs(v) <= 2**53) for v in values)


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
    """Marks an annotation the columnar checks do not compile (Pydantic validates it)."""


_SCALARS: dict[Any, str] = {
    str: "str",
    int: "int",
    float: "float",
    bool: "bool",
    datetime: "datetime",
    date: "date",
}


def _finds_other_members(enum: type[Enum]) -> bool:
    """Whether the Enum defines `_missing_`: values other than its members' may name one."""
    for klass in enum.__mro__:
        if klass is Enum:
            return False
        if "_missing_" in vars(klass):
            return True
    return False


def _kind(base: Any) -> tuple[str | None, tuple[Any, ...]]:
    if base in _SCALARS:
        return _SCALARS[base], ()
    if get_origin(base) is Literal:
        choices = get_args(base)
    elif isinstance(base, type) and issubclass(base, Enum):
        if issubclass(base, Flag) or _finds_other_members(base):
            return None, ()  # Pydantic decides which other values name a member
        choices = tuple(member.value for member in base)
    else:
        return None, ()
    if all(type(c) is str for c in choices) or all(type(c) is int for c in choices):
        return "choice", choices
    return None, ()


def list_of(item: Any) -> Any:
    """`list[item]` for a type known only at run time (a field's annotation, a model)."""
    return list.__class_getitem__(item)
