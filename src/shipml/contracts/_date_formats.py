"""Diagnosis: a column of date strings whose format changes, with the row of the switch.

Formats told apart: ISO 8601, YYYY/MM/DD, MM/DD/YYYY (American) and DD/MM/YYYY, with the
day/month ambiguity of dates whose both parts are 12 or less; other formats are named by
pandas' `guess_datetime_format`. A field with a declared format (`DateFormat`) is compared
with it: "declared YYYY/MM/DD, this file holds MM/DD/YYYY (American) from row 1200 on".
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.tseries.api import guess_datetime_format

from shipml.contracts._parse_dates import describe, parse_texts
from shipml.contracts._sampling import evenly_spaced, single_column
from shipml.contracts._small import frame_dtypes
from shipml.contracts.baseline import Baseline
from shipml.contracts.report import Diagnosis, ValidationReport

if TYPE_CHECKING:
    from shipml.contracts._compile import Contract
    from shipml.contracts._fields import FieldSpec


_OTHER, _ISO, _YMD, _MDY, _DMY, _EITHER = range(6)
_FORMAT_NAMES = {
    _ISO: "ISO 8601 (YYYY-MM-DD)",
    _YMD: "YYYY/MM/DD",
    _MDY: "MM/DD/YYYY (American)",
    _DMY: "DD/MM/YYYY",
    _EITHER: "MM/DD/YYYY or DD/MM/YYYY (ambiguous)",
}
_PREFIX = 6  # enough characters to tell the format: "2024-0", "03/04/", "3/4/20"
_DATE_TEXT = re.compile(
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{4}[/.]\d{1,2}[/.]\d{1,2}|\d{1,2}([/.-])\d{1,2}\1(?:\d{4}|\d{2}))"
    r"(?:[T ].*)?"
)
# the share of date-like values that makes a column worth scanning, for each kind of field
_DATE_FIELD_SHARE = 0.5
_TEXT_FIELD_SHARE = 0.9


def date_formats(
    df: pd.DataFrame, contract: Contract, report: ValidationReport, baseline: Baseline | None
) -> list[Diagnosis]:
    failing = {failure.column for failure in report.failures}
    found: list[Diagnosis] = []
    # A column whose dtype cannot hold text is passed over before it is taken out of the
    # frame (`df[name]` is most of this function's time on a one-row frame).
    not_text = {
        name for name, dtype in zip(df.columns, frame_dtypes(df), strict=True) if _no_text(dtype)
    }
    for field in contract.fields:
        if field.name in not_text:
            continue
        column = single_column(df, field.name)
        if column is None or not len(column) or not is_text(column):
            continue
        declared = field.date_format is not None and not field.date_format.epoch
        if declared and field.name in failing:
            diagnosis = _declared_diagnosis(field, column)
        elif not declared and _worth_a_scan(field, column, field.name in failing):
            diagnosis = _date_diagnosis(field, column)
        else:
            continue
        if diagnosis is not None:
            found.append(diagnosis)
    return found


def _declared_diagnosis(field: FieldSpec, column: pd.Series) -> Diagnosis | None:
    """The rows whose dates are not in the field's declared format, and the format they are in."""
    assert field.date_format is not None
    parsed = parse_texts(column.astype(object), field.date_format.formats)
    unread_codes = np.flatnonzero(~parsed.parsed)
    unread = np.flatnonzero(np.isin(parsed.codes, unread_codes))
    if not len(unread):
        return None  # the failures are something else (a time on a date field, say)
    others = column.iloc[unread]
    scan = _scan_dates(others)
    first, example = int(unread[0]), _text_at(column, int(unread[0]))
    found_class = max(scan.counts, key=lambda f: scan.counts[f]) if scan.counts else _OTHER
    guess = _strftime_of(example, found_class)
    holds = _FORMAT_NAMES.get(found_class)
    if guess is not None and found_class != _EITHER:  # in its own separators: DD.MM.YYYY
        holds = describe(guess) + (" (American)" if found_class == _MDY else "")
    read = np.flatnonzero(~np.isin(parsed.codes, unread_codes) & (parsed.codes >= 0))
    interleaved = bool((read > first).any())
    declared = field.date_format.describe()
    if holds is None:
        message = f"{field.name}: declared {declared}; {len(unread)} values from row {first} on "
        message += f"are in no date format shipml knows (e.g. {example!r})"
    else:
        where = "in rows mixed with the declared ones" if interleaved else "from there on"
        message = f"{field.name}: declared {declared}, this file holds {holds} from row {first}"
        message += f" ({len(unread)} rows {where}, e.g. {example!r})"
        message += _order_note(others, scan)
    if guess is not None and guess not in field.date_format.formats:
        formats = ", ".join(repr(f) for f in (*field.date_format.formats, guess))
        message += f"; if both are expected, declare DateFormat({formats})"
    return Diagnosis(
        kind="date_format",
        column=field.name,
        message=message,
        details={
            "declared": list(field.date_format.formats),
            "found": holds,
            "found_format": guess,
            "rows": len(unread),
            "first_row": first,
            "interleaved": interleaved,
            "example": example,
        },
    )


def _strftime_of(example: str, found_class: int) -> str | None:
    """pandas' guess of the strftime format of `example`, day first when the rows say so."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when the day comes first
        return guess_datetime_format(example, dayfirst=found_class == _DMY)


def _worth_a_scan(field: FieldSpec, column: pd.Series, failing: bool) -> bool:
    """Whether to classify every row's date format, judging by a sample of the column.

    A datetime field's strings are scanned when some failed and half the sample look like
    dates. A str field's strings pass whatever their format, so they are scanned only when
    nearly all the sample look like dates in two formats: 1000 evenly spaced values see any
    run of another format longer than a thousandth of the column.
    """
    if field.kind in ("datetime", "date"):
        return failing and date_like_share(evenly_spaced(column, 1000)) >= _DATE_FIELD_SHARE
    if field.kind != "str":
        return False
    sample = evenly_spaced(column, 1000)
    if date_like_share(sample) < _TEXT_FIELD_SHARE:
        return False
    return _format_families(_row_formats(sample)) >= 2


def _format_families(formats: np.ndarray) -> int:
    """How many formats occur, DD/MM and MM/DD counting as one unless both are certain."""
    seen = set(np.unique(formats).tolist()) - {_OTHER}
    if not {_MDY, _DMY} <= seen:
        seen = {_MDY if f in (_MDY, _DMY, _EITHER) else f for f in seen}
    return len(seen - {_EITHER})


def _no_text(dtype: Any) -> bool:
    """Whether a column of `dtype` cannot hold text (`is_text` says no without looking)."""
    return not isinstance(dtype, pd.StringDtype | pd.CategoricalDtype) and not (
        pd.api.types.is_object_dtype(dtype)
    )


def is_text(column: pd.Series) -> bool:
    """Whether the column holds strings (judged on a sample when its dtype is object)."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.api.types.infer_dtype(dtype.categories) == "string"
    if not pd.api.types.is_object_dtype(dtype):
        return False
    return pd.api.types.infer_dtype(evenly_spaced(column, 1000)) == "string"


def date_like_share(sample: pd.Series) -> float:
    if not len(sample):
        return 0.0
    values = sample.tolist()  # iterating a list is many times faster than a Series
    hits = sum(1 for value in values if isinstance(value, str) and _DATE_TEXT.fullmatch(value))
    return hits / len(sample)


def _row_formats(column: pd.Series) -> np.ndarray:
    """The date format class of every row (nulls and non-dates are _OTHER)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        by_category = _prefix_formats(_prefixes(column.cat.categories.astype(str)))
        with_null = np.append(by_category, np.int8(_OTHER))
        return with_null[column.cat.codes.to_numpy()]  # code -1 (null) takes the last entry
    text = column if isinstance(column.dtype, pd.StringDtype) else column.astype("str")
    encoded = pc.dictionary_encode(_prefixes(text), null_encoding="encode")
    per_row: np.ndarray = _prefix_formats(encoded.dictionary)[encoded.indices.to_numpy()]
    return per_row


def _prefixes(text: pd.Series | pd.Index) -> pa.Array:
    """The first bytes of each string, as one Arrow binary array.

    Bytes, not characters: slicing them is several times faster, and the date formats
    are all ASCII (a multi-byte character cut in two only ever spoils a non-date).
    """
    strings = pa.array(text)
    prefixes = pc.binary_slice(strings.cast(pa.large_binary(), safe=False), 0, _PREFIX)
    return prefixes.combine_chunks() if isinstance(prefixes, pa.ChunkedArray) else prefixes


def _prefix_formats(prefixes: pa.Array) -> np.ndarray:
    """The date format class of each string prefix, decided on its first characters."""
    iso = _matches(prefixes, r"^\d{4}-\d")
    ymd = _matches(prefixes, r"^\d{4}[/.]\d")
    parts = pc.extract_regex(prefixes, r"^(?P<first>\d{1,2})[/.-](?P<second>\d{1,2})[/.-]")
    first = _small_ints(pc.struct_field(parts, [0]))
    second = _small_ints(pc.struct_field(parts, [1]))
    first_is_month, second_is_month = _is_month(first), _is_month(second)
    classes = np.select(
        [
            iso,
            ymd,
            first_is_month & _is_day_above_12(second),
            _is_day_above_12(first) & second_is_month,
            first_is_month & second_is_month,
        ],
        [_ISO, _YMD, _MDY, _DMY, _EITHER],
        default=_OTHER,
    )
    return classes.astype(np.int8)


def _is_month(part: np.ndarray) -> np.ndarray:
    return (part >= 1) & (part <= 12)


def _is_day_above_12(part: np.ndarray) -> np.ndarray:
    above: np.ndarray = (part >= 13) & (part <= 31)
    return above


def _matches(strings: pa.Array, pattern: str) -> np.ndarray:
    found: np.ndarray = pc.fill_null(pc.match_substring_regex(strings, pattern), False).to_numpy(
        zero_copy_only=False
    )
    return found


def _small_ints(digits: pa.Array) -> np.ndarray:
    """Strings of one or two ASCII digits (or null) as numbers, null as 0."""
    numbers = pc.cast(pc.cast(digits, pa.large_string()), pa.int16())
    filled: np.ndarray = pc.fill_null(numbers, 0).to_numpy(zero_copy_only=False)
    return filled


@dataclass(frozen=True)
class _DateScan:
    """Date format per row, ambiguous rows read in the order the column shows elsewhere."""

    raw: np.ndarray  # format class per row as seen
    formats: np.ndarray  # the same with ambiguous rows resolved, when only one order occurs
    counts: dict[int, int]  # rows per format present (unresolved ambiguous rows excluded)
    seen: dict[int, int]  # rows per format class as seen

    @property
    def both_orders(self) -> bool:
        return _MDY in self.counts and _DMY in self.counts

    @property
    def recognized(self) -> np.ndarray:
        """Rows whose format is known (unresolved ambiguous rows are not)."""
        known: np.ndarray = self.formats != _OTHER
        return known & (self.formats != _EITHER) if self.both_orders else known


def _scan_dates(column: pd.Series) -> _DateScan:
    raw = _row_formats(column)
    seen = dict(enumerate(np.bincount(raw, minlength=len(_FORMAT_NAMES) + 1).tolist()))
    counts = {f: seen[f] for f in _FORMAT_NAMES if seen[f]}
    formats = raw
    if _MDY in counts and _DMY in counts:
        counts.pop(_EITHER, None)  # ambiguous rows stay unresolved
    elif _EITHER in counts and (_MDY in counts or _DMY in counts):
        order = _MDY if _MDY in counts else _DMY
        formats = np.where(raw == _EITHER, np.int8(order), raw)
        counts[order] += counts.pop(_EITHER)
    return _DateScan(raw, formats, counts, seen)


def _date_diagnosis(field: FieldSpec, column: pd.Series) -> Diagnosis | None:
    """A switch of date format within the column, or one format the field cannot read."""
    scan = _scan_dates(column)
    if len(scan.counts) >= 2:
        return _switch_diagnosis(field, column, scan)
    if len(scan.counts) == 1 and _ISO not in scan.counts and field.kind in ("datetime", "date"):
        ((only, rows),) = scan.counts.items()
        example = _text_at(column, int(np.argmax(scan.formats == only)))
        return Diagnosis(
            kind="date_format",
            column=field.name,
            message=f"{field.name} holds {_FORMAT_NAMES[only]} dates in {rows} rows "
            f"(e.g. {example!r}); a {field.kind} field reads ISO 8601 (YYYY-MM-DD)"
            + _order_note(column, scan)
            + _declaration_hint(field, example, only),
            details=_date_details(column, scan, switch_row=None, interleaved=False),
        )
    return None


def _declaration_hint(field: FieldSpec, example: str, found_class: int) -> str:
    """How to declare the format the column holds, when pandas can name it."""
    guess = _strftime_of(example, found_class)
    if guess is None:
        return ""
    return f"; to read it, declare Annotated[{field.kind}, DateFormat({guess!r})]"


def _switch_diagnosis(field: FieldSpec, column: pd.Series, scan: _DateScan) -> Diagnosis:
    recognized = scan.recognized
    leading = scan.formats[int(np.argmax(recognized))]
    switch = int(np.argmax(recognized & (scan.formats != leading)))
    new = scan.formats[switch]
    interleaved = bool((scan.formats[switch:] == leading).any())
    earliest = int(np.flatnonzero(scan.formats[:switch] == leading)[-1]) + 1
    example = _text_at(column, switch)
    if interleaved:
        message = f"{field.name} mixes date formats from row {switch} on: "
        message += f"{_FORMAT_NAMES[leading]} and {_FORMAT_NAMES[new]} alternate (e.g. {example!r})"
    else:
        message = f"{field.name} switched date format at row {switch}: {_FORMAT_NAMES[leading]} "
        message += f"before, {_FORMAT_NAMES[new]} from there (e.g. {example!r})"
    message += "; rows per format: " + ", ".join(
        f"{_FORMAT_NAMES[f]} {n}" for f, n in scan.counts.items()
    )
    if earliest < switch:
        message += f"; the switch may start at row {earliest} (rows before {switch} are "
        message += "ambiguous or not dates)"
    details = _date_details(column, scan, switch_row=switch, interleaved=interleaved)
    details["switch_earliest_row"] = earliest
    return Diagnosis(
        kind="date_format",
        column=field.name,
        message=message + _order_note(column, scan),
        details=details,
    )


def _order_note(column: pd.Series, scan: _DateScan) -> str:
    """What the column says about day/month order, when it holds DD/MM or MM/DD dates."""
    ambiguous = scan.seen[_EITHER]
    if scan.both_orders:
        note = f"; both orders occur: {scan.counts[_MDY]} values have a second part above 12 "
        note += f"(MM/DD), {scan.counts[_DMY]} a first part above 12 (DD/MM)"
        return note + (f", {ambiguous} are ambiguous" if ambiguous else "")
    if not ambiguous:
        return ""
    example = _text_at(column, int(np.argmax(scan.raw == _EITHER)))
    if _EITHER in scan.counts:
        return (
            f"; values such as {example!r} could be MM/DD or DD/MM: no value has a part "
            "above 12, so the order cannot be told"
        )
    american = _MDY in scan.counts
    evidence = scan.seen[_MDY if american else _DMY]
    return (
        f"; {ambiguous} values such as {example!r} are ambiguous on their own, read as "
        f"{'MM/DD' if american else 'DD/MM'} because {evidence} values have a "
        f"{'second' if american else 'first'} part above 12"
    )


def _date_details(
    column: pd.Series, scan: _DateScan, switch_row: int | None, interleaved: bool
) -> dict[str, object]:
    return {
        "formats": {_FORMAT_NAMES[f]: n for f, n in scan.counts.items()},
        "ambiguous_rows": scan.seen[_EITHER],
        "switch_row": switch_row,
        "interleaved": interleaved,
        "example": _text_at(column, switch_row) if switch_row is not None else None,
    }


def _text_at(column: pd.Series, position: int) -> str:
    return str(column.iloc[position])[:60]


# --- null rates --------------------------------------------------------------------------
