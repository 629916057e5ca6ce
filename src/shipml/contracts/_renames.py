"""Diagnosis: a field absent from the frame, and the unknown column most likely to be it.

Each pair of an absent field and an unknown column is scored on several signals together,
and the diagnosis says which carried it:
- name: how much the column's name looks like the field's renamed (see `_names`: case and
  separators, abbreviations, dropped vowels, initials, reordered words, prefixes, units);
- kind: whether the column's values suit the field (dtype family, a Literal's values);
- values, against the field's training baseline when one is given: "match" (a close
  distribution), "alike" (the same kind of values: a spread within 10x of the baseline's,
  a range overlapping the baseline's widened by its spread, a similar null rate, so that a
  seasonal window stays alike), or "unlike" (a spread 10x off, or the middle 80% of the
  values beyond the baseline's extremes, as after a change of unit);
- structure: exactly one required field is missing and exactly one unknown column of a
  kind that fits it appeared.
A name match carries a rename on its own; values alone need a close match to a distinctive
baseline distribution; kind and structure only add to (or take from) the others. The
diagnosis ends with the one-line fix: `Field(validation_alias=AliasChoices(...))`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import AliasChoices, AliasPath, BaseModel

from shipml.contracts._date_formats import date_like_share, is_text
from shipml.contracts._names import NameMatch, name_match
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


_REPORTED = 0.7  # the confidence a rename needs to be reported
_VALUES_ONLY = 0.6  # the confidence of a rename seen in the values alone, before the others
_KIND_WEIGHT = {True: 0.05, False: -0.15, None: 0.0}
_VALUES_WEIGHT = {"match": 0.2, "alike": 0.1, "unlike": -0.2, None: 0.0}
_STRUCTURE_WEIGHT = 0.1
_PROFILE_SAMPLE = 20_000  # values sampled from a candidate to compare with a baseline
_MIN_VALUES_TO_MATCH = 50  # a close match needs this many values; "alike" needs fewer
_MIN_VALUES_TO_COMPARE = 5
_MISMATCH = 0.3  # a distribution distance above this means the values clearly differ


@dataclass(frozen=True)
class _Rename:
    """Evidence that the column `candidate` is the field `field` under another name."""

    field: FieldSpec
    candidate: str
    candidate_dtype: str
    name: NameMatch | None  # None: the names are unlike, the values alike
    fits_kind: bool | None  # None: cannot tell
    values: str | None  # "match", "alike", "unlike", or None: no baseline, or no verdict
    distance: float | None
    structure: bool  # the only missing required field and the only fitting new column
    signals: dict[str, float]  # signal -> its contribution to the confidence

    @property
    def confidence(self) -> float:
        return min(0.99, sum(self.signals.values()))


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
    fits = {(f.name, n): _fits_kind(f, c) for f in absent for n, c in candidates.items()}
    structural = _structural_pair(absent, list(candidates), fits)
    found = [
        rename
        for f in absent
        for name, column in candidates.items()
        if (
            rename := _weigh(
                f, name, column, baseline, profiles, fits[f.name, name], structural == (f, name)
            )
        )
        is not None
    ]
    chosen = _best_one_to_one(found)
    diagnoses = [_rename_diagnosis(rename, found, contract.model) for rename in chosen.values()]
    for f in absent:
        if f.required and f.name not in chosen:
            diagnoses.append(_missing_diagnosis(f, list(candidates)))
    return diagnoses


def _structural_pair(
    absent: list[FieldSpec], candidates: list[str], fits: dict[tuple[str, str], bool | None]
) -> tuple[FieldSpec, str] | None:
    """The one missing required field and the one new column that fits it, if so few."""
    required = [f for f in absent if f.required]
    if len(required) != 1:
        return None
    (only,) = required
    fitting = [name for name in candidates if fits[only.name, name]]
    return (only, fitting[0]) if len(fitting) == 1 else None


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
    spec: FieldSpec,
    name: str,
    column: pd.Series,
    baseline: Baseline | None,
    profiles: _Profiles,
    fits: bool | None,
    structure: bool,
) -> _Rename | None:
    """The evidence that `name` is `spec` renamed, or None when it is too weak."""
    reference = baseline.columns.get(spec.name) if baseline is not None else None
    if reference is not None and baseline is not None and name in baseline.columns:
        return None  # both were in the reference data: one is not the other renamed
    names = name_match(spec.name, name)
    if names is None and not _may_match_by_values(reference, column):
        return None
    distance, values = _compare_values(reference, profiles.of(name)) if reference else (None, None)
    if names is None and values != "match":
        return None
    signals = {"name" if names else "values alone": names.score if names else _VALUES_ONLY}
    if values is not None and (names is not None or values != "match"):
        signals["values"] = _VALUES_WEIGHT[values]
    elif values == "match":
        signals["values alone"] += _VALUES_WEIGHT[values]
    if structure:
        signals["structure"] = _STRUCTURE_WEIGHT
    if fits is not None:
        signals["kind"] = _KIND_WEIGHT[fits]
    rename = _Rename(
        spec, name, str(column.dtype), names, fits, values, distance, structure, signals
    )
    return rename if rename.confidence >= _REPORTED else None


def _may_match_by_values(reference: ColumnBaseline | None, column: pd.Series) -> bool:
    """Whether the column could be recognised by its values alone (cheap checks first)."""
    if reference is None or not reference.is_distinctive():
        return False
    return column_kind(column) == reference.kind


def _compare_values(
    reference: ColumnBaseline, current: ColumnBaseline
) -> tuple[float | None, str | None]:
    """Distance of `current` to `reference`, and "match", "alike", "unlike" or None."""
    if reference.kind != current.kind:
        return None, "unlike" if {reference.kind, current.kind} <= _COMPARABLE else None
    distance = reference.distance(current)
    values = round(current.rows * (1 - current.null_rate))
    if values < _MIN_VALUES_TO_COMPARE:
        return distance, None
    close = distance is not None and distance <= min(0.1 + 1 / math.sqrt(values), 0.25)
    if close and values >= _MIN_VALUES_TO_MATCH:
        return distance, "match"  # sampling noise shrinks with n
    return distance, _kinship(reference, current)


_COMPARABLE = {"numeric", "categorical", "boolean", "datetime"}


def _kinship(reference: ColumnBaseline, current: ColumnBaseline) -> str | None:
    """ "alike", "unlike" or None for two profiles of the same kind (see the module doc)."""
    similar_nulls = abs(current.null_rate - reference.null_rate) <= 0.1 + reference.null_rate
    if reference.kind in ("boolean", "datetime"):
        return "alike" if similar_nulls else None
    if reference.kind == "categorical":
        shared = sum(
            share for value, share in current.frequencies.items() if value in reference.frequencies
        )
        if reference.top_share >= 0.8 and shared <= 0.05:
            return "unlike"
        return "alike" if shared >= 0.8 and similar_nulls else None
    if len(reference.quantiles) != 11 or len(current.quantiles) != 11:
        return None
    ref, cur = reference.quantiles, current.quantiles
    ref_spread = (ref[9] - ref[1]) or (ref[10] - ref[0])
    cur_spread = (cur[9] - cur[1]) or (cur[10] - cur[0])
    if ref_spread <= 0 or cur_spread <= 0:
        return None
    ratio = cur_spread / ref_spread
    far = cur[1] > ref[10] or cur[9] < ref[0]  # the inner 80% beyond the baseline's extremes
    if ratio > 10 or ratio < 0.1 or far:
        return "unlike"
    # A window's spread is often much narrower than a year's (a season): only 10x counts.
    overlaps = cur[9] >= ref[0] - ref_spread and cur[1] <= ref[10] + ref_spread
    return "alike" if overlaps and similar_nulls else None


def _best_one_to_one(found: list[_Rename]) -> dict[str, _Rename]:
    """The most credible rename per field, each candidate column used at most once."""
    chosen: dict[str, _Rename] = {}
    used: set[str] = set()
    for rename in sorted(found, key=lambda r: -r.confidence):
        if rename.field.name not in chosen and rename.candidate not in used:
            chosen[rename.field.name] = rename
            used.add(rename.candidate)
    return chosen


_SIGNAL_WORDS = {
    "name": "the name",
    "values alone": "the values",
    "values": "the values",
    "structure": "the structure",
    "kind": "the dtype",
}


def _rename_diagnosis(rename: _Rename, found: list[_Rename], model: type[BaseModel]) -> Diagnosis:
    spec = rename.field
    status = "missing" if spec.required else "absent (optional, so filled with its default)"
    if rename.name is None:
        message = (
            f"{spec.name} is {status}; {rename.candidate} appeared and its values match "
            f"the baseline of {spec.name} (renamed upstream?)"
        )
        reasons = []
    else:
        message = f"{spec.name} is {status}; {rename.candidate} appeared and looks like it "
        message += "(renamed upstream?)"
        reasons = [rename.name.reason]
    if rename.fits_kind is True:
        reasons.append(f"its dtype {rename.candidate_dtype} fits {spec.kind}")
    elif rename.fits_kind is False:
        reasons.append(f"but its dtype {rename.candidate_dtype} does not fit {spec.kind}")
    if rename.structure:
        reasons.append("it is the only new column that fits the only missing one")
    if rename.values == "match" and rename.name is not None:
        reasons.append(f"its values match the baseline of {spec.name}")
    elif rename.values == "alike":
        reasons.append(
            f"its values are of the same kind as the baseline of {spec.name} "
            "(range, spread and null rate)"
        )
    elif rename.values == "unlike":
        reasons.append(f"but its values differ from the baseline of {spec.name}")
    carriers = [
        s for s, weight in sorted(rename.signals.items(), key=lambda i: -i[1]) if weight > 0
    ]
    fix = _fix(spec.name, rename.candidate, model)
    message += "".join(f"; {reason}" for reason in reasons)
    message += f". Confidence {rename.confidence:.2f}, carried by "
    message += ", ".join(_SIGNAL_WORDS[s] for s in dict.fromkeys(carriers))
    message += f"; fix: {fix}"
    others = [r.candidate for r in found if r.field is spec and r.candidate != rename.candidate]
    return Diagnosis(
        kind="renamed_column",
        column=spec.name,
        message=message,
        details={
            "candidate": rename.candidate,
            "name_reason": rename.name.reason if rename.name else None,
            "fits_kind": rename.fits_kind,
            "values": rename.values,
            "structure": rename.structure,
            "baseline_distance": rename.distance,
            "confidence": round(rename.confidence, 3),
            "signals": {s: round(w, 3) for s, w in rename.signals.items()},
            "carried_by": carriers,
            "fix": fix,
            "other_candidates": others,
        },
    )


def _fix(field_name: str, candidate: str, model: type[BaseModel]) -> str:
    """The one-line change that lets the field read the new column too."""
    names = [field_name, *sorted(_input_names(model)[field_name] - {field_name}), candidate]
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"Field(validation_alias=AliasChoices({quoted}))"


def _missing_diagnosis(spec: FieldSpec, unexpected: list[str]) -> Diagnosis:
    listed = ", ".join(unexpected[:10]) + (", …" if len(unexpected) > 10 else "")
    return Diagnosis(
        kind="missing_column",
        column=spec.name,
        message=f"{spec.name} is missing and no column looks like a rename of it "
        f"(unexpected columns: {listed or 'none'})",
        details={"unexpected_columns": unexpected[:50]},
    )


def _fits_kind(spec: FieldSpec, column: pd.Series) -> bool | None:
    """Whether the column's values suit the field's kind; None when that cannot be told."""
    sample = evenly_spaced(column, 1000)
    if spec.kind is None or not len(sample):
        return None
    source = column_kind(column)
    if spec.kind in ("int", "float"):
        return source == "numeric"
    if spec.kind == "bool":
        return source == "boolean" or (source == "numeric" and bool(sample.isin([0, 1]).all()))
    if spec.kind == "str":
        return source == "categorical" and is_text(column)
    if spec.kind in ("datetime", "date"):
        return source == "datetime" or (is_text(column) and date_like_share(sample) >= 0.9)
    if spec.kind == "choice":
        return float(sample.isin(spec.choices).mean()) >= 0.9
    return None
