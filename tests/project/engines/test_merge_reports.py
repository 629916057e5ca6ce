"""Validating a frame slice by slice and merging the reports gives the whole frame's report."""

from __future__ import annotations

import itertools
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, Field

from shipml.contracts import ValidationReport, validate
from shipml.project.engines._merge import merge_reports


class Reading(BaseModel):
    machine_id: str = Field(pattern=r"^M-\d+$")
    temperature_c: float | None = Field(ge=-40, le=150)
    rpm: float = Field(ge=0)


def readings(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "machine_id": [f"M-{i % 7}" for i in range(rows)],
            "temperature_c": rng.normal(70, 10, rows).round(1),
            "rpm": rng.normal(1500, 50, rows).round(),
            "site": "north",  # not in the contract
        }
    )


def report_of(frame: pd.DataFrame, contract: type[BaseModel]) -> ValidationReport:
    """The report of `frame`, every invalid row set aside (as partitions are validated)."""
    return validate(frame, contract, policy="quarantine", max_invalid_fraction=1.0).report


def merged(frame: pd.DataFrame, cuts: list[int], contract: type[BaseModel]) -> ValidationReport:
    """The merged reports of `frame` cut at the rows `cuts`."""
    bounds = [0, *cuts, len(frame)]
    slices = [frame.iloc[start:stop] for start, stop in itertools.pairwise(bounds)]
    return merge_reports([report_of(s, contract) for s in slices], list(contract.model_fields))


@pytest.mark.parametrize("cuts", [[50], [10, 20, 90], [1, 2, 3, 4, 5, 6, 7]])
def test_merged_slice_reports_equal_the_whole_frames_report(cuts: list[int]) -> None:
    frame = readings(120)
    frame.loc[[2, 4, 6, 8, 11, 13, 60, 95], "temperature_c"] = 900.0  # 8 rows: 5 examples kept
    frame.loc[[3, 70], "temperature_c"] = None  # nulls are allowed, and counted
    frame.loc[[90], "machine_id"] = "X-9"  # in a later slice than temperature's first failure
    frame.loc[[5, 97], "rpm"] = -1.0

    whole = report_of(frame, Reading)

    assert merged(frame, cuts, Reading) == whole
    assert [e.row for e in whole.failures[1].examples] == [2, 4, 6, 8, 11]


def test_a_clean_frame_merges_into_a_clean_report() -> None:
    frame = readings(30)

    report = merged(frame, [7, 19], Reading)

    assert report == validate(frame, Reading).report
    assert report.ok and report.unexpected_columns == ["site"]


class Event(BaseModel):
    ts: datetime


def test_a_date_format_switch_inside_a_later_slice_is_reported_at_its_window_row() -> None:
    dates = pd.date_range("2026-03-01", periods=100, freq="h")
    text = [*dates[:60].strftime("%Y-%m-%dT%H:%M"), *dates[60:].strftime("%m/%d/%Y %H:%M")]
    frame = pd.DataFrame({"ts": pd.Series(text, dtype="str")})

    whole = report_of(frame, Event)
    report = merged(frame, [50], Event)

    [diagnosis], [expected] = report.diagnoses, whole.diagnoses
    assert diagnosis.kind == expected.kind == "date_format"
    assert diagnosis.details["switch_row"] == expected.details["switch_row"] == 60
    assert "partition starting at window row 50" in diagnosis.message
