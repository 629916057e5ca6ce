"""Whether rows of one contract can feed a step that expects another."""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

_WIDENINGS = {(int, float), (bool, int), (bool, float)}


def incompatibilities(
    producer: type[BaseModel], consumer: type[BaseModel], *, ignore: tuple[str, ...] = ()
) -> list[str]:
    """Why rows satisfying `producer` may fail `consumer` (empty when they always pass)."""
    if producer is consumer or issubclass(producer, consumer):
        return []
    problems = []
    produced = producer.model_fields
    for name, field in consumer.model_fields.items():
        if name in ignore:
            continue
        if name not in produced:
            if field.is_required():
                problems.append(
                    f"{consumer.__name__} needs {name!r}, which {producer.__name__} lacks"
                )
            continue
        source_type, source_nullable = _base(produced[name].annotation)
        target_type, target_nullable = _base(field.annotation)
        if source_nullable and not target_nullable:
            problems.append(
                f"{name!r} may be null in {producer.__name__} but not in {consumer.__name__}"
            )
        if not _assignable(source_type, target_type):
            problems.append(
                f"{name!r} is {_name(source_type)} in {producer.__name__} "
                f"but {_name(target_type)} in {consumer.__name__}"
            )
    return problems


def _base(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        return (args[0] if len(args) == 1 else Union[tuple(args)]), nullable  # noqa: UP007
    return annotation, False


def _assignable(source: Any, target: Any) -> bool:
    if source == target or target is Any or (source, target) in _WIDENINGS:
        return True
    if get_origin(source) is not None or get_origin(target) is not None:
        return _literal_within(source, target)
    return isinstance(source, type) and isinstance(target, type) and issubclass(source, target)


def _literal_within(source: Any, target: Any) -> bool:
    """A Literal feeding a Literal (a subset) or the Literal's base type."""
    if get_origin(source) is not Literal:
        return False
    values = set(get_args(source))
    if get_origin(target) is Literal:
        return values <= set(get_args(target))
    return all(isinstance(v, target) for v in values) if isinstance(target, type) else False


def _name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)
