"""Pydantic's verdict on each item of a list, in one batched call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError


@dataclass(frozen=True)
class ItemError:
    """One error of one list item: where inside the item, the rule, the message."""

    loc: tuple[int | str, ...]
    rule: str
    message: str


@dataclass(frozen=True)
class Verdicts:
    """Errors per failing item, and the validated items (None where an item failed)."""

    errors: dict[int, list[ItemError]]
    values: np.ndarray  # dtype object, one entry per item

    def first_errors(self) -> dict[tuple[str, str], np.ndarray]:
        """(rule, message) -> indices of the items whose first error it is."""
        grouped: dict[tuple[str, str], list[int]] = {}
        for index, errors in self.errors.items():
            grouped.setdefault((errors[0].rule, errors[0].message), []).append(index)
        return {key: np.asarray(found, dtype=np.intp) for key, found in grouped.items()}


def validate_items(list_adapter: TypeAdapter[list[Any]], items: list[Any]) -> Verdicts:
    """Validate `items` with `list_adapter` (a `TypeAdapter(list[T])`), item by item."""
    values = np.empty(len(items), dtype=object)
    try:
        values[:] = _as_objects(list_adapter.validate_python(items))
        return Verdicts({}, values)
    except ValidationError as error:
        errors = _errors_by_item(error)
    passed = [i for i in range(len(items)) if i not in errors]
    if passed:
        validated = list_adapter.validate_python([items[i] for i in passed])
        values[passed] = _as_objects(validated)
    return Verdicts(errors, values)


def _errors_by_item(error: ValidationError) -> dict[int, list[ItemError]]:
    found: dict[int, list[ItemError]] = {}
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        index, *inner = detail["loc"]
        found.setdefault(int(index), []).append(
            ItemError(tuple(inner), detail["type"], detail["msg"])
        )
    return found


def _as_objects(values: list[Any]) -> np.ndarray:
    """A 1-d object array of `values` (never nested, even when the values are sequences)."""
    return np.fromiter(values, dtype=object, count=len(values))
