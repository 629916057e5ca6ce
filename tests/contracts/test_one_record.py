"""Property: the report of one refused record equals `validate`'s on its one-row frame.

Records are drawn at random (seeded) for contracts of every kind of field: bounded numbers,
patterns and lengths, Literal and Enum choices, dates, datetimes and declared date formats,
optional fields and defaults, validators, model validators, extra columns allowed or
forbidden, aliases. Each field gets a valid value, or a value from a pool of troublemakers
(out of bounds, text, numbers in text, null, NaN, infinity, ints beyond int64, lone
surrogates, dates in other formats, lists and dicts), or is left out; extra keys come in,
some named like a field. For every record Pydantic refuses, `refused_record_report` must
give the JSON `validate(pd.DataFrame([record]), M, policy="fail")` reports, byte for byte.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, Literal

import pandas as pd
import pytest
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from shipml.contracts import ContractViolation, DateFormat, ValidationReport, validate
from shipml.contracts._compile import compile_contract
from shipml.contracts.one_record import _fits_the_quick_way, _quick_report, refused_record_report

RECORDS_PER_CONTRACT = 400


class Features(BaseModel):
    """The serving benchmark's contract."""

    f0: float = Field(ge=-10, le=10)
    f1: float = Field(ge=-10, le=10)
    f2: float = Field(ge=-10, le=10)
    f3: float = Field(ge=-10, le=10)
    f4: float = Field(ge=-10, le=10)


class Numbers(BaseModel):
    ratio: float = Field(gt=0, lt=1)
    count: int = Field(ge=0, le=100)
    step: int = Field(multiple_of=5)
    finite: float = Field(allow_inf_nan=False)
    flag: bool
    optional: float | None = None
    defaulted: int = 3


class Color(StrEnum):
    RED = "red"
    BLUE = "blue"


class Level(IntEnum):
    LOW = 1
    HIGH = 2


class Texts(BaseModel):
    code: str = Field(pattern=r"^[A-Z]{2}-\d{3}$")
    name: str = Field(min_length=2, max_length=8)
    kind: Literal["a", "b"]
    color: Color
    level: Level
    size: Literal[1, 2, 3] = 1
    note: str | None = None


class Dates(BaseModel):
    day: date
    at: datetime
    local: Annotated[date, DateFormat("%d/%m/%Y")]
    label: str
    value: float


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("must be positive")
    return value


class Checked(BaseModel):
    low: float
    high: Annotated[float, AfterValidator(_positive)]
    checked_default: int = Field(default=0, validate_default=True, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Checked:
        if self.low > self.high:
            raise ValueError("low above high")
        return self


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x: float = Field(ge=0)
    y: str


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")

    x: float = Field(ge=0)
    when: date | None = None


class Aliased(BaseModel):
    temperature: float = Field(alias="temp", le=100)
    machine: str


VALID: dict[str, list[Any]] = {
    "f0": [0.5, -3, 10],
    "f1": [-1.2, 0],
    "f2": [0.3],
    "f3": [2.0],
    "f4": [-0.7],
    "ratio": [0.5],
    "count": [7, 100],
    "step": [10, 0],
    "finite": [1.5],
    "flag": [True, False],
    "optional": [None, 2.5],
    "defaulted": [4],
    "code": ["AB-123"],
    "name": ["pump"],
    "kind": ["a", "b"],
    "color": ["red", "blue"],
    "level": [1, 2],
    "size": [2],
    "note": ["fine", None],
    "day": ["2024-01-31", "2024-02-01"],
    "at": ["2024-01-31T10:00:00", "2024-01-31 10:00"],
    "local": ["31/01/2024"],
    "label": ["x"],
    "value": [1.0],
    "low": [1.0],
    "high": [2.0],
    "checked_default": [1],
    "x": [1.0],
    "y": ["y"],
    "when": ["2024-01-31"],
    "temp": [20.5],
    "machine": ["M-1"],
}
TROUBLE: list[Any] = [
    None,
    math.nan,
    math.inf,
    -math.inf,
    0,
    1,
    -1,
    11,
    10.5,
    -10.5,
    1e308,
    2**63,
    2**64,
    -(2**70),
    True,
    False,
    "",
    "x",
    "5",
    "5.5",
    " 7 ",
    "n/a-17",
    "inf",
    "\ud800",
    "caf\u00e9",
    "red",
    "RED",
    "a",
    "AB-123",
    "ab-123",
    "2024-01-31",
    "2024-13-01",
    "31/01/2024",
    "01/31/2024",
    "2024/01/31",
    "2024-01-31T10:00:00",
    "1706695200",
    "abc" * 100,
    [1, 2],
    {"a": 1},
    [],
]
EXTRA_NAMES = ["extra", "F0", "f_0", "Ratio", "colour", "dayy", "Temperature", "lowest"]
CONTRACTS = [Features, Numbers, Texts, Dates, Checked, Strict, Open, Aliased]


def _record(model: type[BaseModel], rng: random.Random) -> dict[str, Any]:
    """A record with each field valid, troubled or left out, and maybe extra keys."""
    record: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        draw = rng.random()
        if draw < 0.08:
            continue
        record[key] = rng.choice(TROUBLE) if draw < 0.3 else rng.choice(VALID[key])
    if rng.random() < 0.2:
        record[rng.choice(EXTRA_NAMES)] = rng.choice([*TROUBLE, 1.5, "2024-01-31"])
    if rng.random() < 0.3:  # keys in another order
        keys = list(record)
        rng.shuffle(keys)
        record = {k: record[k] for k in keys}
    return record


def _refused(model: type[BaseModel], seed: int) -> list[tuple[dict[str, Any], ValidationError]]:
    rng = random.Random(seed)
    refused = []
    while len(refused) < RECORDS_PER_CONTRACT:
        record = _record(model, rng)
        try:
            model.model_validate(record)
        except ValidationError as error:
            refused.append((record, error))
    return refused


def _engine_report(record: dict[str, Any], model: type[BaseModel]) -> ValidationReport | None:
    try:
        validate(pd.DataFrame([record]), model, policy="fail")
    except ContractViolation as violation:
        return violation.report
    return None


def _json(report: ValidationReport | None) -> str | None:
    return None if report is None else report.to_json()


@pytest.mark.parametrize("model", CONTRACTS, ids=lambda m: m.__name__)
def test_the_report_of_a_refused_record_is_the_engines(model: type[BaseModel]) -> None:
    for record, error in _refused(model, seed=CONTRACTS.index(model)):
        try:
            expected = _json(_engine_report(record, model))
        except Exception as engine_error:  # the engine cannot read it: neither may the other
            with pytest.raises(type(engine_error)):
                refused_record_report(record, model, error)
            continue
        assert _json(refused_record_report(record, model, error)) == expected, record


@pytest.mark.parametrize(
    "record",
    [
        {"f0": 10.61, "f1": -1.2, "f2": 0.3, "f3": 2.0, "f4": -0.7},
        {"f0": 0.5, "f1": "n/a-17", "f2": 0.3, "f3": 2.0, "f4": -0.7},
        {"f0": 0.5, "f1": -1.2, "f3": 1.06, "f4": -0.7},
        {"f0": 0.5, "f1": -1.2, "f3": 2.0, "f4": -0.7, "F2": 1.5},
        {"f0": None, "f1": -1.2, "f2": 0.3, "f3": 2.0, "f4": -0.7},
        {"f0": 11, "f1": "2024-01-31", "f2": True, "f3": 2.0},
    ],
    ids=["out-of-bounds", "not-a-number", "missing", "renamed", "null", "several"],
)
def test_the_serving_benchmarks_invalid_records(record: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        Features.model_validate(record)

    report = refused_record_report(record, Features, refused.value)

    assert report is not None and report.invalid_rows == 1
    assert report.to_json() == _json(_engine_report(record, Features))


def test_a_record_refused_by_a_model_validator_alone_is_reported_as_the_engine_does() -> None:
    record = {"low": 3.0, "high": 2.0}
    with pytest.raises(ValidationError) as refused:
        Checked.model_validate(record)

    report = refused_record_report(record, Checked, refused.value)

    assert report is not None and [f.column for f in report.failures] == ["(row)"]
    assert report.to_json() == _json(_engine_report(record, Checked))


@pytest.mark.parametrize("model", [Features, Numbers, Texts, Dates], ids=lambda m: m.__name__)
def test_most_refused_records_of_column_contracts_take_the_quick_way(
    model: type[BaseModel],
) -> None:
    """The property above compares the quick way with the engine only if records take it."""
    contract = compile_contract(model)
    quick = [
        record
        for record, error in _refused(model, seed=CONTRACTS.index(model))
        if _fits_the_quick_way(record, contract) and _quick_report(record, contract, error)
    ]
    assert len(quick) >= RECORDS_PER_CONTRACT // 3
