"""Likely causes behind failures: renamed columns, switched date formats, null surges.

Diagnoses only add explanation to a report: they never change its verdict, and one
that breaks on odd input is logged and left out rather than raised. On a clean frame
without a baseline they cost nothing, except a comparison of names when a field is
absent and an unknown column is present (an optional field renamed upstream would
otherwise be filled with its default without a word).

- renamed_column / missing_column: a field absent from the frame, and the unknown column
  most likely to be it, judged by name (case and separator style, abbreviations,
  initialisms, unit suffixes, spelling), by whether its values suit the field, and, given
  a baseline, by how close its values are to the field's baseline distribution.
- date_format: a column of date strings whose format changes (ISO 8601, YYYY/MM/DD,
  MM/DD/YYYY, DD/MM/YYYY), with the row of the switch and the day/month ambiguity.
- null_rate: a null rate far above the baseline's (see `_null_surge` for "far"), or, with
  no baseline, a failing frame's field that is null in every row.
"""

from __future__ import annotations

import difflib
import functools
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AliasChoices, AliasPath, BaseModel

from shipml.contracts.baseline import Baseline, ColumnBaseline, column_kind
from shipml.contracts.report import Diagnosis, ValidationReport

if TYPE_CHECKING:
    from shipml.contracts._compile import Contract
    from shipml.contracts._fields import FieldSpec

_log = logging.getLogger(__name__)

_Step = Callable[[pd.DataFrame, "Contract", ValidationReport, Baseline | None], list[Diagnosis]]


def diagnose(
    df: pd.DataFrame, contract: Contract, report: ValidationReport, baseline: Baseline | None
) -> list[Diagnosis]:
    """Likely causes of the report's failures and, given a baseline, of silent changes."""
    if report.ok and baseline is None:
        steps: tuple[_Step, ...] = (_renamed_columns,) if _renames_possible(df, contract) else ()
    else:
        steps = (_renamed_columns, _date_formats, _null_rates)
    found: list[Diagnosis] = []
    for step in steps:
        try:
            found.extend(step(df, contract, report, baseline))
        except Exception:  # an explanation must never break the validation it explains
            _log.warning("diagnosis %s failed on %s", step.__name__, contract.name, exc_info=True)
    return found


def _renames_possible(df: pd.DataFrame, contract: Contract) -> bool:
    known = set().union(*_input_names(contract.model).values())
    unknown = any(str(label) not in known for label in df.columns)
    return unknown and bool(_absent_fields(df, contract))


@functools.cache
def _input_names(model: type[BaseModel]) -> dict[str, frozenset[str]]:
    """Field name -> the column names it may arrive under: its name and its string aliases."""
    names: dict[str, frozenset[str]] = {}
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
        paths = [c.path[0] if isinstance(c, AliasPath) else c for c in choices]
        names[name] = frozenset(n for n in (name, info.alias, *paths) if isinstance(n, str))
    return names


def _absent_fields(df: pd.DataFrame, contract: Contract) -> list[FieldSpec]:
    """The fields none of whose names is a column of `df`."""
    columns = {str(label) for label in df.columns}
    names = _input_names(contract.model)
    return [f for f in contract.fields if not names[f.name] & columns]


def _single_column(df: pd.DataFrame, label: object) -> pd.Series | None:
    """The column `label`, or None when it is absent or appears more than once."""
    if label not in df.columns:
        return None
    column = df[label]
    return column if isinstance(column, pd.Series) else None


def _evenly_spaced(column: pd.Series, size: int) -> pd.Series:
    """Up to `size` non-null values spread over the whole column."""
    if len(column) > size:
        column = column.iloc[np.linspace(0, len(column) - 1, size).astype(np.intp)]
    return column.dropna()


# --- renamed columns ---------------------------------------------------------------------

_REPORTED = 0.7  # the credibility a rename needs to be reported
_VALUES_ONLY = 0.6  # the credibility of a rename seen in the values alone, before adjustments
_FIT_BONUS = {True: 0.05, False: -0.15, None: 0.0}
_VALUES_BONUS = {"match": 0.2, "mismatch": -0.15, None: 0.0}
_PROFILE_SAMPLE = 20_000  # values sampled from a candidate to compare with a baseline
_MIN_VALUES_TO_COMPARE = 50
_MISMATCH = 0.3  # a distribution distance above this means the values clearly differ


@dataclass(frozen=True)
class _Rename:
    """Evidence that the column `candidate` is the field `field` under another name."""

    field: FieldSpec
    candidate: str
    candidate_dtype: str
    name_reason: str | None  # None: the names are unlike, the values alike
    fits_kind: bool | None  # None: cannot tell
    values: str | None  # "match", "mismatch", or None: no baseline, or no clear verdict
    distance: float | None
    credibility: float


def _renamed_columns(
    df: pd.DataFrame, contract: Contract, report: ValidationReport, baseline: Baseline | None
) -> list[Diagnosis]:
    absent = _absent_fields(df, contract)
    if not absent:
        return []
    known = set().union(*_input_names(contract.model).values())
    candidates = {
        str(label): column
        for label in df.columns
        if str(label) not in known and (column := _single_column(df, label)) is not None
    }
    profiles = _Profiles(candidates)
    found = [
        rename
        for field in absent
        for name, column in candidates.items()
        if (rename := _weigh(field, name, column, baseline, profiles)) is not None
    ]
    chosen = _best_one_to_one(found)
    diagnoses = [_rename_diagnosis(rename, found) for rename in chosen.values()]
    for field in absent:
        if field.required and field.name not in chosen:
            diagnoses.append(_missing_diagnosis(field, list(candidates)))
    return diagnoses


class _Profiles:
    """Statistics of candidate columns, computed on a sample when first needed."""

    def __init__(self, columns: dict[str, pd.Series]) -> None:
        self._columns = columns
        self._profiles: dict[str, ColumnBaseline] = {}

    def of(self, name: str) -> ColumnBaseline:
        """The statistics of column `name`."""
        if name not in self._profiles:
            column = self._columns[name]
            if len(column) > _PROFILE_SAMPLE:
                positions = np.random.default_rng(0).integers(0, len(column), _PROFILE_SAMPLE)
                column = column.iloc[np.sort(positions)]
            self._profiles[name] = ColumnBaseline.from_series(column)
        return self._profiles[name]


def _weigh(
    field: FieldSpec,
    name: str,
    column: pd.Series,
    baseline: Baseline | None,
    profiles: _Profiles,
) -> _Rename | None:
    """The evidence that `name` is `field` renamed, or None when it is too weak."""
    reference = baseline.columns.get(field.name) if baseline is not None else None
    if reference is not None and baseline is not None and name in baseline.columns:
        return None  # both were in the reference data: one is not the other renamed
    name_match = _name_match(field.name, name)
    if name_match is None and not _may_match_by_values(reference, column):
        return None
    distance, values = _compare_values(reference, profiles.of(name)) if reference else (None, None)
    if name_match is None and values != "match":
        return None
    fits = _fits_kind(field, column)
    credibility = name_match.score if name_match else _VALUES_ONLY
    credibility += _FIT_BONUS[fits] + _VALUES_BONUS[values]
    if credibility < _REPORTED:
        return None
    reason = name_match.reason if name_match else None
    return _Rename(field, name, str(column.dtype), reason, fits, values, distance, credibility)


def _may_match_by_values(reference: ColumnBaseline | None, column: pd.Series) -> bool:
    """Whether the column could be recognised by its values alone (cheap checks first)."""
    if reference is None or not reference.is_distinctive():
        return False
    return column_kind(column) == reference.kind


def _compare_values(
    reference: ColumnBaseline, current: ColumnBaseline
) -> tuple[float | None, str | None]:
    """Distance of `current` to `reference`, and whether that is a clear match or mismatch."""
    distance = reference.distance(current)
    values = round(current.rows * (1 - current.null_rate))
    if distance is None or values < _MIN_VALUES_TO_COMPARE:
        return distance, None
    if distance <= min(0.1 + 1 / math.sqrt(values), 0.25):  # sampling noise shrinks with n
        return distance, "match"
    return distance, "mismatch" if distance > _MISMATCH else None


def _best_one_to_one(found: list[_Rename]) -> dict[str, _Rename]:
    """The most credible rename per field, each candidate column used at most once."""
    chosen: dict[str, _Rename] = {}
    used: set[str] = set()
    for rename in sorted(found, key=lambda r: -r.credibility):
        if rename.field.name not in chosen and rename.candidate not in used:
            chosen[rename.field.name] = rename
            used.add(rename.candidate)
    return chosen


def _rename_diagnosis(rename: _Rename, found: list[_Rename]) -> Diagnosis:
    field = rename.field
    status = "missing" if field.required else "absent (optional, so filled with its default)"
    if rename.name_reason is None:
        message = (
            f"{field.name} is {status}; {rename.candidate} appeared and its values match "
            f"the baseline of {field.name} (renamed upstream?)"
        )
        reasons = []
    else:
        message = f"{field.name} is {status}; {rename.candidate} appeared and looks like it "
        message += "(renamed upstream?)"
        reasons = [rename.name_reason]
    if rename.fits_kind is True:
        reasons.append(f"its dtype {rename.candidate_dtype} fits {field.kind}")
    elif rename.fits_kind is False:
        reasons.append(f"but its dtype {rename.candidate_dtype} does not fit {field.kind}")
    if rename.values == "match" and rename.name_reason is not None:
        reasons.append(f"its values match the baseline of {field.name}")
    elif rename.values == "mismatch":
        reasons.append(f"but its values differ from the baseline of {field.name}")
    others = [r.candidate for r in found if r.field is field and r.candidate != rename.candidate]
    return Diagnosis(
        kind="renamed_column",
        column=field.name,
        message=message + "".join(f"; {reason}" for reason in reasons),
        details={
            "candidate": rename.candidate,
            "name_reason": rename.name_reason,
            "fits_kind": rename.fits_kind,
            "values": rename.values,
            "baseline_distance": rename.distance,
            "credibility": round(rename.credibility, 3),
            "other_candidates": others,
        },
    )


def _missing_diagnosis(field: FieldSpec, unexpected: list[str]) -> Diagnosis:
    listed = ", ".join(unexpected[:10]) + (", …" if len(unexpected) > 10 else "")
    return Diagnosis(
        kind="missing_column",
        column=field.name,
        message=f"{field.name} is missing and no column looks like a rename of it "
        f"(unexpected columns: {listed or 'none'})",
        details={"unexpected_columns": unexpected[:50]},
    )


def _fits_kind(field: FieldSpec, column: pd.Series) -> bool | None:
    """Whether the column's values suit the field's kind; None when that cannot be told."""
    sample = _evenly_spaced(column, 1000)
    if field.kind is None or not len(sample):
        return None
    source = column_kind(column)
    if field.kind in ("int", "float"):
        return source == "numeric"
    if field.kind == "bool":
        return source == "boolean" or (source == "numeric" and bool(sample.isin([0, 1]).all()))
    if field.kind == "str":
        return source == "categorical" and _is_text(column)
    if field.kind in ("datetime", "date"):
        return source == "datetime" or (_is_text(column) and _date_like_share(sample) >= 0.9)
    if field.kind == "choice":
        return float(sample.isin(field.choices).mean()) >= 0.9
    return None


# --- name similarity ---------------------------------------------------------------------

_UNIT_DIMENSIONS = {
    "temperature": ("c", "f", "k", "degc", "degf", "celsius", "fahrenheit", "kelvin"),
    "length": ("nm", "um", "mm", "cm", "m", "km", "ft", "mi"),
    "time": ("ns", "us", "ms", "s", "sec", "secs", "min", "mins", "h", "hr", "hrs"),
    "frequency": ("hz", "khz", "mhz", "rpm"),
    "mass": ("mg", "g", "kg", "lb", "lbs"),
    "ratio": ("pct", "percent", "ppm"),
    "voltage": ("mv", "v", "kv"),
    "current": ("ma",),
    "power": ("w", "kw", "mw"),
    "energy": ("j", "kj", "wh", "kwh"),
    "pressure": ("pa", "kpa", "mpa", "bar", "psi"),
    "volume": ("ml", "l"),
    "speed": ("mps", "kmh", "kph", "mph"),
    "money": ("usd", "eur", "gbp", "chf", "jpy"),
    "per": ("per",),
}
# "in", "a" and "t" are left out: as the last word of a name they are more often not units
_UNITS = {unit: dim for dim, units in _UNIT_DIMENSIONS.items() for unit in units}
_UNIT_SPELLINGS = {
    "degc": "c",
    "celsius": "c",
    "degf": "f",
    "fahrenheit": "f",
    "kelvin": "k",
    "sec": "s",
    "secs": "s",
    "mins": "min",
    "hr": "h",
    "hrs": "h",
    "percent": "pct",
    "lbs": "lb",
    "kph": "kmh",
}
_VOWELS = set("aeiou")
_MAX_WORDS = 12  # longer names are not compared (the word alignment grows with the length)


@dataclass(frozen=True)
class _NameMatch:
    """How alike two column names are (1.0 = the same name written differently) and why."""

    score: float
    reason: str


@dataclass(frozen=True)
class _Name:
    """A column name split into word tokens and trailing unit tokens."""

    stem: tuple[str, ...]
    units: tuple[str, ...]

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.stem + self.units


def _split_name(name: str) -> _Name:
    """`temperatureC` and `Temperature_C` -> stem ("temperature",), units ("c",)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    spaced = re.sub(r"([A-Za-z])([0-9])", r"\1 \2", spaced)
    spaced = re.sub(r"([0-9])([A-Za-z])", r"\1 \2", spaced)
    tokens = [t.lower() for t in re.split(r"[^A-Za-z0-9]+", spaced) if t]
    cut = len(tokens)
    while cut > 1 and tokens[cut - 1] in _UNITS:
        cut -= 1
    return _Name(tuple(tokens[:cut]), tuple(tokens[cut:]))


def _name_match(expected: str, seen: str) -> _NameMatch | None:
    """How much `seen` looks like `expected` renamed; None for unrelated names."""
    a, b = _split_name(expected), _split_name(seen)
    if not a.tokens or not b.tokens or max(len(a.tokens), len(b.tokens)) > _MAX_WORDS:
        return None
    if _numbers(a) != _numbers(b):
        return None  # sensor_1 is not sensor_2
    if a.tokens == b.tokens:
        return _NameMatch(1.0, "same name in another case or separator style")
    if "".join(a.tokens) == "".join(b.tokens):
        return _NameMatch(0.95, "same name with other word breaks")
    units = _unit_change(a.units, b.units)
    if units is None:
        return None
    unit_score, unit_reason = units
    if a.stem == b.stem:
        return _NameMatch(unit_score, unit_reason)
    aligned = _align(a.stem, b.stem)
    if aligned is None:
        return None
    word_score, pairs = aligned
    if not unit_reason:
        return _NameMatch(word_score, ", ".join(pairs))
    return _NameMatch(min(word_score, unit_score) - 0.05, ", ".join([*pairs, unit_reason]))


def _numbers(name: _Name) -> list[str]:
    return [t for t in name.tokens if t.isdigit()]


def _unit_change(expected: tuple[str, ...], seen: tuple[str, ...]) -> tuple[float, str] | None:
    """Score and description of a plausible change of unit suffix; None for unrelated units."""
    if expected == seen:
        return 1.0, ""
    if not seen:
        return 0.85, f"unit suffix _{'_'.join(expected)} dropped"
    if not expected:
        return 0.85, f"unit suffix _{'_'.join(seen)} added"
    change = f"{'_'.join(expected)} -> {'_'.join(seen)}"
    if [_UNIT_SPELLINGS.get(u, u) for u in expected] == [_UNIT_SPELLINGS.get(u, u) for u in seen]:
        return 0.9, f"unit suffix spelled differently ({change})"
    if [_UNITS[u] for u in expected] == [_UNITS[u] for u in seen]:
        return 0.8, f"unit suffix changed ({change}): check the unit of the values"
    return None


def _align(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[float, list[str]] | None:
    """Match the words of two names in order: the weakest pair's score and how they pair."""
    if not a or not b:
        return (1.0, []) if not a and not b else None
    pair = _word_match(a[0], b[0])
    if pair is not None and (rest := _align(a[1:], b[1:])) is not None:
        score, how = pair
        return min(score, rest[0]), [how, *rest[1]] if how else rest[1]
    for width in range(2, len(b) + 1):  # a's first word stands for several of b's
        if a[0] == _initials(b[:width]) and (rest := _align(a[1:], b[width:])) is not None:
            return min(0.85, rest[0]), [f"initialism ({a[0]} = {' '.join(b[:width])})", *rest[1]]
    for width in range(2, len(a) + 1):  # b's first word stands for several of a's
        if b[0] == _initials(a[:width]) and (rest := _align(a[width:], b[1:])) is not None:
            return min(0.85, rest[0]), [f"initialism ({b[0]} = {' '.join(a[:width])})", *rest[1]]
    return None


def _initials(words: tuple[str, ...]) -> str:
    return "".join(word[0] for word in words)


def _word_match(expected: str, seen: str) -> tuple[float, str] | None:
    """Score and description of two words that may be the same word; None otherwise."""
    if expected == seen:
        return 1.0, ""
    if expected.isdigit() or seen.isdigit():
        return None
    short, long = sorted((expected, seen), key=len)
    if long.startswith(short) and len(short) >= 3 and len(short) <= 0.65 * len(long):
        return 0.85, f"abbreviation ({short} = {long})"  # temp, lat; but not count for country
    if _is_skeleton(short, long):
        return 0.75, f"abbreviation ({short} = {long})"
    if len(short) >= 4 and difflib.SequenceMatcher(None, short, long).ratio() >= 0.85:
        return 0.8, f"spelling ({seen} ~ {expected})"
    return None


def _is_skeleton(short: str, long: str) -> bool:
    """`qty` for `quantity`, `ts` for `timestamp`: first letter, then consonants in order."""
    if len(short) < 2 or len(long) - len(short) < 2 or short[0] != long[0]:
        return False
    if any(letter in _VOWELS for letter in short[1:]):
        return False
    remaining = iter(long[1:])
    return all(letter in remaining for letter in short[1:])


# --- date formats ------------------------------------------------------------------------

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


def _date_formats(
    df: pd.DataFrame, contract: Contract, report: ValidationReport, baseline: Baseline | None
) -> list[Diagnosis]:
    failing = {failure.column for failure in report.failures}
    found: list[Diagnosis] = []
    for field in contract.fields:
        column = _single_column(df, field.name)
        if column is None or not len(column) or not _is_text(column):
            continue
        if _worth_a_scan(field, column, field.name in failing):
            diagnosis = _date_diagnosis(field, column)
            if diagnosis is not None:
                found.append(diagnosis)
    return found


def _worth_a_scan(field: FieldSpec, column: pd.Series, failing: bool) -> bool:
    """Whether to classify every row's date format, judging by a sample of the column.

    A datetime field's strings are scanned when some failed and half the sample look like
    dates. A str field's strings pass whatever their format, so they are scanned only when
    nearly all the sample look like dates in two formats: 1000 evenly spaced values see any
    run of another format longer than a thousandth of the column.
    """
    if field.kind in ("datetime", "date"):
        return failing and _date_like_share(_evenly_spaced(column, 1000)) >= _DATE_FIELD_SHARE
    if field.kind != "str":
        return False
    sample = _evenly_spaced(column, 1000)
    if _date_like_share(sample) < _TEXT_FIELD_SHARE:
        return False
    return _format_families(_row_formats(sample)) >= 2


def _format_families(formats: np.ndarray) -> int:
    """How many formats occur, DD/MM and MM/DD counting as one unless both are certain."""
    seen = set(np.unique(formats).tolist()) - {_OTHER}
    if not {_MDY, _DMY} <= seen:
        seen = {_MDY if f in (_MDY, _DMY, _EITHER) else f for f in seen}
    return len(seen - {_EITHER})


def _is_text(column: pd.Series) -> bool:
    """Whether the column holds strings (judged on a sample when its dtype is object)."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.api.types.infer_dtype(dtype.categories) == "string"
    if not pd.api.types.is_object_dtype(dtype):
        return False
    return pd.api.types.infer_dtype(_evenly_spaced(column, 1000)) == "string"


def _date_like_share(sample: pd.Series) -> float:
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
    return _prefix_formats(encoded.dictionary)[encoded.indices.to_numpy()]


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
    return (part >= 13) & (part <= 31)


def _matches(strings: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(strings, pattern), False).to_numpy(
        zero_copy_only=False
    )


def _small_ints(digits: pa.Array) -> np.ndarray:
    """Strings of one or two ASCII digits (or null) as numbers, null as 0."""
    numbers = pc.cast(pc.cast(digits, pa.large_string()), pa.int16())
    return pc.fill_null(numbers, 0).to_numpy(zero_copy_only=False)


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
        known = self.formats != _OTHER
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
            + _order_note(column, scan),
            details=_date_details(column, scan, switch_row=None, interleaved=False),
        )
    return None


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

_MIN_NULLS = 5
_MIN_RATE_RATIO = 2.0
_MIN_RATE_RISE = 0.05
_SURPRISE = math.log(1000)  # a surge needs a chance below 1/1000 at the baseline rate
_ALL_NULL_MIN_ROWS = 10


def _null_rates(
    df: pd.DataFrame, contract: Contract, report: ValidationReport, baseline: Baseline | None
) -> list[Diagnosis]:
    found: list[Diagnosis] = []
    fields = set(contract.columns)
    for name, nulls in report.null_counts.items():
        reference = baseline.columns.get(name) if baseline is not None else None
        if reference is not None:
            if _null_surge(nulls, report.rows, reference.null_rate):
                found.append(_surge_diagnosis(name, nulls, report.rows, reference.null_rate))
        elif not report.ok and name in fields and _all_null(nulls, report.rows):
            found.append(_all_null_diagnosis(name, nulls))
    return found


def _all_null(nulls: int, rows: int) -> bool:
    return rows >= _ALL_NULL_MIN_ROWS and nulls == rows


def _null_surge(nulls: int, rows: int, baseline_rate: float) -> bool:
    """True when `nulls` of `rows` is far above the baseline null rate.

    Far means all of: at least 5 nulls; a rate above max(2 x baseline, baseline + 5 points);
    and a binomial tail below 1/1000 at the baseline rate, by the Chernoff bound
    P(X >= k) <= exp(-n KL(k/n || p)), so small frames need a larger rise to count.
    """
    if rows == 0 or nulls < _MIN_NULLS:
        return False
    rate = nulls / rows
    if rate <= max(_MIN_RATE_RATIO * baseline_rate, baseline_rate + _MIN_RATE_RISE):
        return False
    return rows * _bernoulli_divergence(rate, baseline_rate) >= _SURPRISE


def _bernoulli_divergence(rate: float, expected: float) -> float:
    """KL(rate || expected) of two Bernoulli distributions, for rate > expected."""
    if expected <= 0:
        return math.inf
    divergence = rate * math.log(rate / expected)
    if rate < 1:
        divergence += (1 - rate) * math.log((1 - rate) / (1 - expected))
    return divergence


def _all_null_diagnosis(name: str, rows: int) -> Diagnosis:
    return Diagnosis(
        kind="null_rate",
        column=name,
        message=f"{name} is null in every row ({rows} rows): the source sent no values for it",
        details={"nulls": rows, "rows": rows, "rate": 1.0},
    )


def _surge_diagnosis(name: str, nulls: int, rows: int, baseline_rate: float) -> Diagnosis:
    rate = nulls / rows
    return Diagnosis(
        kind="null_rate",
        column=name,
        message=f"{name} is null in {rate:.1%} of rows ({nulls} of {rows}), far above "
        f"{baseline_rate:.1%} in the baseline (a source stopped sending values?)",
        details={"nulls": nulls, "rows": rows, "rate": rate, "baseline_rate": baseline_rate},
    )
