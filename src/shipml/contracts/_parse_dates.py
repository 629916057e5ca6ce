"""Parse date strings by declared strftime formats: vectorized, with `datetime.strptime`'s verdicts.

The reference is `datetime.strptime(text, format)`, each format tried in the declared order.
The vectorized parse runs on the distinct strings: Arrow first keeps those that match
`strptime`'s own regular expression for the format (translated to RE2), since pandas reads
more ("now", nine-digit fractions, negative years, loose offsets under ISO-like formats);
pandas' `to_datetime(format=...)` (a port of the same parser) reads them; the few that
match but pandas refuses (30 February), and offsets with seconds (which pandas drops), are
left to `strptime` itself. A property test holds the result to `strptime`.

Epoch "formats" (`epoch_s`, `epoch_ms`) read numbers as seconds or milliseconds since
1970-01-01 UTC, exactly (integers), into aware UTC datetimes.
"""

from __future__ import annotations

import _strptime
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# microseconds per unit of each epoch format, and the range that stays within years 1-9999
EPOCH_FORMATS = {"epoch_s": 1_000_000, "epoch_ms": 1_000}
_FIRST_SECOND = -62_135_596_800  # 0001-01-01T00:00:00Z in epoch seconds
_LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z
# The directives a declared format may use: those that read the same in pandas and strptime
# and do not depend on the locale or on the local time zone.
_DIRECTIVES = {
    "Y": "YYYY",
    "y": "YY",
    "m": "MM",
    "d": "DD",
    "b": "Mon",
    "B": "Month",
    "a": "Day",
    "A": "Weekday",
    "H": "hh",
    "I": "hh",
    "M": "mm",
    "S": "ss",
    "f": "ffffff",
    "p": "AM/PM",
    "z": "+hh:mm",
    "%": "%",
}
_TIME_DIRECTIVES = set("HIMSfpz")
_DIRECTIVE = re.compile(r"%(.?)")
_US = "datetime64[us]"


def check_format(text: str) -> None:
    """Raise ValueError when `text` cannot be a declared format."""
    if not isinstance(text, str) or not text:
        raise ValueError(f"a date format is a non-empty strftime string, not {text!r}")
    if text in EPOCH_FORMATS:
        return
    used = _DIRECTIVE.findall(text)
    if not used or used == ["%"] * len(used):
        raise ValueError(f"date format {text!r} has no strftime directive (such as %Y)")
    unknown = sorted({f"%{d}" for d in used if d not in _DIRECTIVES})
    if unknown:
        allowed = " ".join(f"%{d}" for d in _DIRECTIVES)
        raise ValueError(
            f"date format {text!r} uses {', '.join(unknown)}; a declared format may use "
            f"{allowed} (others depend on the locale or the local time zone)"
        )


def describe(text: str) -> str:
    """`%Y/%m/%d` -> `YYYY/MM/DD`; epoch formats in words."""
    if text == "epoch_s":
        return "seconds since 1970-01-01 UTC"
    if text == "epoch_ms":
        return "milliseconds since 1970-01-01 UTC"
    return _DIRECTIVE.sub(lambda m: _DIRECTIVES.get(m.group(1), m.group(0)), text)


def has_zone(text: str) -> bool:
    """Whether the format reads a UTC offset (`%z`)."""
    return "z" in _DIRECTIVE.findall(text)


def has_time(text: str) -> bool:
    """Whether the format reads a time of day (or an epoch number, which has one)."""
    return text in EPOCH_FORMATS or bool(_TIME_DIRECTIVES & set(_DIRECTIVE.findall(text)))


# ---------------------------------------------------------------- one value (the reference)


def strptime_first(text: str, formats: Sequence[str]) -> datetime | None:
    """`datetime.strptime(text, f)` for the first format `f` that reads `text`, else None."""
    for fmt in formats:
        if _matches(text, fmt) and (value := _strptime_or_none(text, fmt)) is not None:
            return value
    return None


def _matches(text: str, fmt: str) -> bool:
    """The pattern test `strptime` starts with (cheaper than its exception when it fails)."""
    found = _pattern(fmt).match(text)
    return found is not None and found.end() == len(text)


@functools.lru_cache(maxsize=256)
def _pattern(fmt: str) -> re.Pattern[str]:
    """The regular expression `strptime` matches `fmt`'s strings with."""
    pattern: re.Pattern[str] = _strptime._TimeRE_cache.compile(fmt)
    return pattern


def from_epoch(number: int | float, unit: str) -> datetime:
    """The aware UTC datetime `number` seconds or milliseconds after 1970-01-01 UTC.

    Raises OverflowError beyond the years 1-9999 (and ValueError for NaN).
    """
    if unit == "epoch_s":
        return EPOCH + timedelta(seconds=number)
    return EPOCH + timedelta(milliseconds=number)


def epoch_bounds(unit: str) -> tuple[int, int]:
    """The smallest and largest numbers of `unit` within the years 1-9999."""
    per_second = 1_000_000 // EPOCH_FORMATS[unit]
    return _FIRST_SECOND * per_second, (_LAST_SECOND + 1) * per_second - 1


# ---------------------------------------------------------------- many values


@dataclass(frozen=True)
class ParsedTexts:
    """Distinct strings parsed by the declared formats."""

    codes: np.ndarray  # per row, the index of its string among the distinct ones; -1: null
    values: pd.Series  # per distinct string: datetime64[us] (naive or UTC), or object
    parsed: np.ndarray  # per distinct string: whether a format read it


def parse_texts(column: pd.Series, formats: Sequence[str]) -> ParsedTexts:
    """Parse the strings of `column` (nulls stay null) by the first format that reads each."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    texts = np.asarray(uniques, dtype=object)
    values, parsed = parse_distinct(texts, formats)
    return ParsedTexts(codes, values, parsed)


def parse_distinct(texts: np.ndarray, formats: Sequence[str]) -> tuple[pd.Series, np.ndarray]:
    """(value per string, whether parsed) for an object array of distinct strings."""
    found: list[tuple[np.ndarray, pd.Series]] = []  # (positions, values) per format
    rescued: list[tuple[int, datetime]] = []
    left = np.flatnonzero([isinstance(text, str) for text in texts])  # other values: unread
    for fmt in formats:
        if not len(left):
            break
        read, values, doubtful = _parse_with_pandas(texts[left], fmt)
        found.append((left[read], values))
        for position in left[doubtful]:
            value = _strptime_or_none(texts[position], fmt)
            if value is not None:
                rescued.append((int(position), value))
        done = np.zeros(len(texts), dtype=bool)
        done[left[read]] = True
        done[[p for p, _ in rescued]] = True
        left = left[~done[left]]
    parsed = np.zeros(len(texts), dtype=bool)
    for positions, _ in found:
        parsed[positions] = True
    parsed[[p for p, _ in rescued]] = True
    return _assemble(len(texts), found, rescued), parsed


def _strptime_or_none(text: str, fmt: str) -> datetime | None:
    """`strptime`'s value, or None when it refuses the text (30 February, a long s in "sep")."""
    try:
        return datetime.strptime(text, fmt)
    except (ValueError, KeyError, IndexError, OverflowError):
        return None


def _parse_with_pandas(texts: np.ndarray, fmt: str) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """(positions read, their values as datetime64[us], positions `strptime` must decide).

    Only strings that match `strptime`'s own pattern for `fmt` are read (pandas reads more:
    "now", nine-digit fractions, negative years, loose offsets under ISO-like formats).
    Of those, pandas' refusals (30 February) and offsets with seconds (which pandas drops)
    are left to `strptime`.
    """
    strings = pa.array(texts.tolist(), type=pa.large_string())
    shaped = _fills(pc.match_substring_regex(strings, _re2_pattern(fmt)))
    candidates = np.flatnonzero(shaped)
    if not len(candidates):
        return candidates, pd.Series([], dtype=_US), candidates
    zone = has_zone(fmt)
    try:
        times = pd.to_datetime(
            pd.Index(texts[candidates], dtype=object), format=fmt, errors="coerce", utc=zone
        )
    except (ValueError, KeyError, IndexError, OverflowError):  # pandas trips on a rare string
        return candidates[:0], pd.Series([], dtype=_US), candidates
    read = ~np.asarray(times.isna())
    if zone:
        groups = pc.extract_regex(strings.take(candidates), _re2_pattern(fmt))
        offsets = pc.struct_field(groups, "z")
        read &= ~_fills(pc.greater(pc.utf8_length(offsets), 6))  # +hh:mm:ss: seconds
    values = pd.Series(times[read])
    if values.dt.unit != "us":
        values = values.dt.as_unit("us")
    return candidates[read], values, candidates[~read]


def _fills(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


# Python's \s in a str pattern (RE2's covers ASCII only)
_PY_SPACE = (
    r"[\t\n\x0b\f\r\x1c-\x1f \x85\xa0\x{1680}\x{2000}-\x{200a}"
    r"\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
)


@functools.lru_cache(maxsize=256)
def _re2_pattern(fmt: str) -> str:
    r"""`strptime`'s pattern for `fmt` in RE2 syntax, anchored at both ends (as it is used).

    Python's `\d` is any Unicode decimal digit, its `\s` any Unicode space, and it ignores case;
    RE2 extracts only named groups, so the unnamed ones become non-capturing.
    """
    source = _pattern(fmt).pattern
    out: list[str] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\":
            escaped = source[i + 1]
            out.append({"d": r"\p{Nd}", "s": _PY_SPACE}.get(escaped, source[i : i + 2]))
            i += 2
            continue
        out.append("(?:" if char == "(" and source[i + 1 : i + 2] != "?" else char)
        i += 1
    return "(?i)^(?:" + "".join(out) + r")\z"


def _assemble(
    size: int, found: list[tuple[np.ndarray, pd.Series]], rescued: list[tuple[int, datetime]]
) -> pd.Series:
    """One array of values per distinct string: datetime64[us] when one time zone kind fits all."""
    pieces = [values for _, values in found if len(values)]
    aware = {isinstance(v.dtype, pd.DatetimeTZDtype) for v in pieces}
    aware |= {value.tzinfo is not None for _, value in rescued}
    if len(aware) <= 1:
        dtype: Any = pd.DatetimeTZDtype("us", UTC) if aware == {True} else np.dtype(_US)
        result: pd.Series = pd.Series(pd.NaT, index=range(size), dtype=dtype)
        for positions, values in found:
            if len(values):
                result.iloc[positions] = values.array
        for position, value in rescued:
            stamp = pd.Timestamp(value)
            result.iloc[position] = stamp if stamp.tzinfo is None else stamp.tz_convert(UTC)
        return result
    mixed = np.full(size, None, dtype=object)  # naive and aware values: Python datetimes
    for positions, values in found:
        mixed[positions] = list(values.dt.to_pydatetime())
    for position, value in rescued:
        mixed[position] = value
    return pd.Series(mixed)


def as_dates(values: pd.Series) -> np.ndarray:
    """datetime64 values (at midnight) as an object array of `datetime.date` (NaT: None)."""
    result = np.full(len(values), None, dtype=object)
    present = ~values.isna().to_numpy()
    if present.any():
        stamps = values[present]
        if isinstance(stamps.dtype, pd.DatetimeTZDtype) or stamps.dtype == np.dtype(object):
            result[present] = [date(v.year, v.month, v.day) for v in stamps]
        else:
            result[present] = stamps.to_numpy(dtype="datetime64[D]").astype(object)
    return result


def midnight(values: pd.Series) -> np.ndarray:
    """Whether each datetime is at exactly midnight (null: True)."""
    if values.dtype == np.dtype(object):
        return np.fromiter(
            (v is None or v.time() == datetime.min.time() for v in values),
            dtype=bool,
            count=len(values),
        )
    normalized = values.dt.normalize()
    same: np.ndarray = (normalized == values).to_numpy(dtype=bool, na_value=True)
    return same
