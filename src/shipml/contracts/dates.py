"""Dates written in a declared format: the `DateFormat` marker and `parse_datetimes`.

```python
class Weather(BaseModel):
    date: Annotated[date, DateFormat("%Y/%m/%d")]
    observed: Annotated[datetime, DateFormat("%d.%m.%Y %H:%M", "%d.%m.%Y")]
    sent: Annotated[datetime, DateFormat("epoch_ms")]
```

A string in a `DateFormat` field is read by the first of its formats that reads it, exactly as
`datetime.strptime` reads it, and nothing else: an ISO 8601 string in a `"%Y/%m/%d"` field is
refused (a file that switches format is caught, with a diagnosis naming both formats). Other
values (`date`, `datetime`, `pd.Timestamp`) are validated as the field's type validates them.
The marker works in Pydantic itself (`Weather.model_validate`), in the columnar checks of
`validate()` (vectorized parsing) and in serving alike, with the same verdicts and values.

Formats use the strftime directives `%Y %y %m %d %b %B %a %A %H %I %M %S %f %p %z %%`
(those that do not depend on the locale or the local time zone). `%z` is refused on a `date`
field (a date has no time zone). Two special formats read numbers, or strings of digits, as
seconds (`"epoch_s"`) or milliseconds (`"epoch_ms"`) since 1970-01-01 UTC into aware UTC
datetimes, for `datetime` fields only, each alone.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Union, get_args, get_origin

import numpy as np
import pandas as pd
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from shipml.contracts._parse_dates import (
    EPOCH_FORMATS,
    check_format,
    describe,
    from_epoch,
    has_zone,
    parse_texts,
    strptime_first,
)

__all__ = ["DateFormat", "parse_datetimes"]

_DIGITS = re.compile(r"[+-]?[0-9]+")
_EXAMPLE = datetime(2026, 1, 31, tzinfo=UTC)  # midnight: an example for date fields too


class DateFormat:
    """The textual format(s) of a `date` or `datetime` field: `Annotated[date, DateFormat(...)]`."""

    __slots__ = ("formats",)

    def __init__(self, *formats: str) -> None:
        if not formats:
            raise ValueError("DateFormat() needs at least one format, e.g. DateFormat('%Y/%m/%d')")
        for text in formats:
            check_format(text)
        epoch = [f for f in formats if f in EPOCH_FORMATS]
        if epoch and len(formats) > 1:
            raise ValueError(f"DateFormat({epoch[0]!r}) takes no other format")
        self.formats: tuple[str, ...] = tuple(formats)

    @property
    def epoch(self) -> str | None:
        """`epoch_s` or `epoch_ms` when the field reads numbers, else None."""
        return self.formats[0] if self.formats[0] in EPOCH_FORMATS else None

    def describe(self) -> str:
        """The formats as a reader would write them: `YYYY/MM/DD or DD.MM.YYYY`."""
        return " or ".join(describe(f) for f in self.formats)

    def __repr__(self) -> str:
        return f"DateFormat({', '.join(map(repr, self.formats))})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DateFormat) and other.formats == self.formats

    def __hash__(self) -> int:
        return hash(self.formats)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        kind = self._kind_of(source)
        parse = self._epoch_parser() if self.epoch else self._text_parser(kind)
        return core_schema.no_info_before_validator_function(parse, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """What a request sends: a string in the declared format (or an epoch number)."""
        json_schema = handler(schema)
        if handler.mode == "serialization":
            return json_schema  # the values go out as ISO 8601
        if self.epoch:
            seconds = int(_EXAMPLE.timestamp())
            example = seconds if self.epoch == "epoch_s" else seconds * 1000
            return {"type": "integer", "description": self.describe(), "examples": [example]}
        return {
            "type": "string",
            "description": f"written as {self.describe()} ({' or '.join(self.formats)})",
            "examples": [_EXAMPLE.strftime(self.formats[0])],
        }

    def _kind_of(self, source: Any) -> str:
        """'date' or 'datetime': the type the marker annotates (None allowed around it)."""
        if get_origin(source) in (Union, types.UnionType):
            members = [a for a in get_args(source) if a is not type(None)]
            source = members[0] if len(members) == 1 else source
        if source is datetime:
            kind = "datetime"
        elif source is date:
            kind = "date"
        else:
            raise TypeError(f"{self!r} applies to a date or datetime field, not {source!r}")
        if kind == "date" and self.epoch:
            raise TypeError(f"{self!r} reads times: use it on a datetime field, not a date")
        if kind == "date" and any(has_zone(f) for f in self.formats):
            raise TypeError(f"{self!r} reads a UTC offset (%z), which a date field cannot hold")
        return kind

    def error(self, kind: str) -> PydanticCustomError:
        """The error of a value that no format reads."""
        if self.epoch:
            return PydanticCustomError(
                "datetime_format",
                "Input should be a number of {unit} since 1970-01-01 UTC within the years 1-9999",
                {"unit": "seconds" if self.epoch == "epoch_s" else "milliseconds"},
            )
        return PydanticCustomError(
            f"{kind}_format",
            "Input should be a {kind} in the format {formats}",
            {"kind": kind, "formats": self.describe()},
        )

    def _text_parser(self, kind: str) -> Callable[[Any], Any]:
        formats = self.formats

        def parse(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            parsed = strptime_first(value, formats)
            if parsed is None:
                raise self.error(kind)
            return parsed

        return parse

    def _epoch_parser(self) -> Callable[[Any], Any]:
        unit = self.formats[0]

        def parse(value: Any) -> Any:
            if isinstance(value, str) and _DIGITS.fullmatch(value):
                value = int(value)
            elif isinstance(value, str):
                raise self.error("datetime")
            if isinstance(value, bool) or not isinstance(value, int | float):
                return value
            if isinstance(value, float) and not math.isfinite(value):
                raise self.error("datetime")
            try:
                return from_epoch(value, unit)
            except OverflowError:
                raise self.error("datetime") from None

        return parse


def parse_datetimes(
    values: pd.Series, formats: str | Sequence[str], *, utc: bool = False
) -> pd.Series:
    """Strings to datetime64[us] by the first format that reads each; NaT where none does.

    Vectorized, with `datetime.strptime`'s verdicts and values. Nulls stay NaT: compare with
    `values.isna()` to find the strings no format read. Values come out naive, or in UTC
    when the formats read offsets (`%z`); with `utc=True` always in UTC (naive values are
    taken as UTC). Raises ValueError when, without `utc`, naive and offset values mix.
    """
    chosen = (formats,) if isinstance(formats, str) else tuple(formats)
    if not chosen:
        raise ValueError("parse_datetimes needs at least one format")
    for text in chosen:
        check_format(text)
        if text in EPOCH_FORMATS:
            raise ValueError(f"parse_datetimes reads strings; {text!r} is for numbers")
    parsed = parse_texts(values.astype(object), chosen)
    distinct = parsed.values
    if distinct.dtype == np.dtype(object):
        if not utc:
            raise ValueError("the formats give times with and without UTC offsets: pass utc=True")
        distinct = pd.Series(pd.to_datetime(distinct.tolist(), utc=True)).dt.as_unit("us")
    elif utc:
        dtz = distinct.dt.tz
        distinct = distinct.dt.tz_localize("UTC") if dtz is None else distinct
    times = distinct.array.take(parsed.codes, allow_fill=True)
    result: pd.Series = pd.Series(times, index=values.index, name=values.name)
    return result
