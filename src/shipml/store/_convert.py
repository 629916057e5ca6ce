"""Copying ORM rows into frozen records, so no session ever leaks out of the store."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

RecordT = TypeVar("RecordT")


def to_record(record_type: type[RecordT], row: Any) -> RecordT:
    """A `record_type` built from the same-named attributes of `row`."""
    names = [field.name for field in fields(record_type)]  # type: ignore[arg-type]  # record types are dataclasses
    return record_type(**{name: getattr(row, name) for name in names})
