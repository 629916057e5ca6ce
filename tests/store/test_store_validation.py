"""Validation reports and the quarantine round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel

from shipml.store import RunNotFound, RunStore


class _Report(BaseModel):
    contract: str
    rows: int
    invalid_rows: int = 0
    failures: list[dict] = []


def _awkward_quarantine() -> pd.DataFrame:
    """Invalid rows as a contract would hand them over: positions as index, `_reasons`."""
    return pd.DataFrame(
        {
            "machine_id": ["m-ü", "機械-7", None],
            "ts": pd.to_datetime(
                ["2024-03-01T10:00:00+02:00", None, "2024-03-01T12:30:15.250Z"],
                utc=True,
                format="ISO8601",
            ),
            "temperature_c": [np.nan, 151.5, -np.inf],
            "cycles": np.array([1, 2, 3], dtype=np.int64),
            "ok": [True, False, True],
            "mode": pd.array(["run", pd.NA, "idle"], dtype="string"),
            "extra": [
                {"a": np.float64(1.5)},
                [np.int64(1), None],
                datetime(2024, 1, 1, tzinfo=UTC),
            ],
            "_reasons": ["temperature_c: null", "temperature_c: le; ts: null", "machine_id: null"],
        },
        index=pd.Index([4, 17, 99]),
    )


def test_a_report_and_its_quarantined_rows_round_trip(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch")
    report = {"contract": "Reading", "rows": 100, "invalid_rows": 3, "failures": [{"count": 3}]}

    store.record_validation(run_id, "preprocess.input", report, _awkward_quarantine())
    back = store.quarantined(run_id)

    assert back.index.tolist() == [4, 17, 99]
    assert back.index.name == "row_position"
    assert back["machine_id"].tolist()[:2] == ["m-ü", "機械-7"]
    assert pd.isna(back["machine_id"].iloc[2])
    assert back["ts"].iloc[0] == "2024-03-01T08:00:00.000000Z"
    assert pd.isna(back["ts"].iloc[1])
    assert pd.Timestamp(back["ts"].iloc[2]) == pd.Timestamp("2024-03-01T12:30:15.250Z")
    assert pd.isna(back["temperature_c"].iloc[0])
    assert back["temperature_c"].iloc[1] == 151.5
    assert back["temperature_c"].iloc[2] == "-inf"
    assert back["cycles"].tolist() == [1, 2, 3]
    assert back["ok"].tolist() == [True, False, True]
    assert back["mode"].iloc[0] == "run" and pd.isna(back["mode"].iloc[1])
    assert back["extra"].tolist() == [{"a": 1.5}, [1, None], "2024-01-01T00:00:00+00:00"]
    assert back["_reasons"].tolist() == _awkward_quarantine()["_reasons"].tolist()
    assert set(back["_boundary"]) == {"preprocess.input"}


def test_run_detail_summarises_each_boundary(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch")
    clean = _Report(contract="Reading", rows=100)
    dirty = {"contract": "Clean", "rows": 97, "invalid_rows": 3, "failures": [{"count": 3}]}

    store.record_validation(run_id, "preprocess.input", clean)
    store.record_validation(run_id, "featurize.input", dirty, _awkward_quarantine())

    detail = store.run(run_id)
    first, second = detail.validations
    assert (first.boundary, first.ok, first.rows, first.invalid_rows) == (
        "preprocess.input",
        True,
        100,
        0,
    )
    assert first.quarantined_rows == 0
    assert first.report == clean.model_dump(mode="json")
    assert (second.boundary, second.ok, second.invalid_rows) == ("featurize.input", False, 3)
    assert second.quarantined_rows == 3 and second.report == dirty
    assert detail.quarantined_rows == 3


def test_quarantine_can_be_read_per_boundary(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch")
    rows = _awkward_quarantine()
    store.record_validation(run_id, "a", {"rows": 10, "invalid_rows": 3}, rows)
    store.record_validation(run_id, "b", {"rows": 7, "invalid_rows": 1}, rows.iloc[:1])

    assert store.quarantined(run_id, "b").index.tolist() == [4]
    assert len(store.quarantined(run_id, "a")) == 3
    assert store.quarantined(run_id, "c").empty
    assert list(store.quarantined(store.start_run("weather", "batch")).columns) == [
        "_reasons",
        "_boundary",
    ]


def test_report_values_are_made_json_safe(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch")
    example = {"row": np.int64(3), "value": np.nan, "when": pd.Timestamp("2024-03-01", tz="UTC")}
    report = {"rows": np.int64(5), "invalid_rows": 1, "failures": [{"examples": [example]}]}

    store.record_validation(run_id, "preprocess.input", report)

    stored = store.run(run_id).validations[0].report
    assert stored["failures"][0]["examples"] == [
        {"row": 3, "value": None, "when": "2024-03-01T00:00:00+00:00"}
    ]


def test_bad_validation_input_is_refused_before_writing(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch")
    rows = _awkward_quarantine()
    with pytest.raises(ValueError, match="has no 'invalid_rows' count"):
        store.record_validation(run_id, "b", {"rows": 3})
    with pytest.raises(ValueError, match="has no '_reasons' column"):
        store.record_validation(
            run_id, "b", {"rows": 3, "invalid_rows": 3}, rows.drop(columns="_reasons")
        )
    with pytest.raises(ValueError, match="index must hold integer row positions"):
        store.record_validation(
            run_id, "b", {"rows": 3, "invalid_rows": 3}, rows.set_index("machine_id")
        )
    with pytest.raises(RunNotFound):
        store.record_validation("nope", "b", {"rows": 3, "invalid_rows": 3}, rows)
    assert store.run(run_id).validations == ()


def test_an_empty_quarantine_frame_stores_no_rows(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch")
    nothing_invalid = _awkward_quarantine().drop(columns="_reasons").iloc[:0]

    store.record_validation(
        run_id, "preprocess.input", {"rows": 3, "invalid_rows": 0}, nothing_invalid
    )

    (validation,) = store.run(run_id).validations
    assert validation.ok and validation.quarantined_rows == 0
    assert store.quarantined(run_id).empty


def test_duplicate_column_names_are_refused_rather_than_merged(store: RunStore) -> None:
    run_id = store.start_run("weather", "batch")
    rows = pd.DataFrame([[1, 2, "x: le"]], columns=["x", "x", "_reasons"])
    with pytest.raises(ValueError, match=r"duplicate column names \['x'\]"):
        store.record_validation(run_id, "b", {"rows": 1, "invalid_rows": 1}, rows)
