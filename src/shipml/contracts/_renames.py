"""Diagnosis: a field absent from the frame, and the unknown column most likely to be it.

Judged by name (case and separator style, abbreviations, initialisms, unit suffixes,
spelling), by whether the column's values suit the field, and, given a baseline, by how
close its values are to the field's baseline distribution.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import AliasChoices, AliasPath, BaseModel

from shipml.contracts._date_formats import date_like_share, is_text
from shipml.contracts._sampling import evenly_spaced, single_column
from shipml.contracts.baseline import Baseline, ColumnBaseline, column_kind
from shipml.contracts.report import Diagnosis, ValidationReport

if TYPE_CHECKING:
    from shipml.contracts._compile import Contract
    from shipml.contracts._fields import FieldSpec


def renames_possible(df: pd.DataFrame, contract: Contract) -> bool:
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


def renamed_columns(
    df: pd.DataFrame, contract: Contract, report: ValidationReport, baseline: Baseline | None
) -> list[Diagnosis]:
    absent = _absent_fields(df, contract)
    if not absent:
        return []
    known = set().union(*_input_names(contract.model).values())
    candidates = {
        str(label): column
        for label in df.columns
        if str(label) not in known and (column := single_column(df, label)) is not None
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
    sample = evenly_spaced(column, 1000)
    if field.kind is None or not len(sample):
        return None
    source = column_kind(column)
    if field.kind in ("int", "float"):
        return source == "numeric"
    if field.kind == "bool":
        return source == "boolean" or (source == "numeric" and bool(sample.isin([0, 1]).all()))
    if field.kind == "str":
        return source == "categorical" and is_text(column)
    if field.kind in ("datetime", "date"):
        return source == "datetime" or (is_text(column) and date_like_share(sample) >= 0.9)
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
