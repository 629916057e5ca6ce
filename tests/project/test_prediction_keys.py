"""Prediction keys: the configured columns (from predict's output or input), or generated ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from _projects import SETTINGS, write_project
from shipml.errors import LabelsError
from shipml.io import LabelsSettings
from shipml.project.batch import labels_configured
from shipml.project.predictions import generated_ids, keyed_predictions, online_frame
from shipml.project.project import Project
from shipml.windows import Window

WINDOW = Window(datetime(2026, 3, 2, 8, tzinfo=UTC), datetime(2026, 3, 2, 8, 15, tzinfo=UTC))
PREDICTIONS = pd.DataFrame({"score": [0.1, 0.9]}, index=[4, 7])
FEATURES = pd.DataFrame({"machine_id": ["a", "b"], "x": [1.0, 2.0]}, index=[4, 7])


def test_without_a_key_each_prediction_gets_an_id_from_its_window_and_row() -> None:
    keyed = keyed_predictions(PREDICTIONS, FEATURES, LabelsSettings(), WINDOW)
    assert list(keyed["prediction_id"]) == ["20260302T0800Z-4", "20260302T0800Z-7"]
    assert list(generated_ids(WINDOW, PREDICTIONS.index)) == list(keyed["prediction_id"])


def test_key_columns_missing_from_the_prediction_are_taken_from_its_input_by_row() -> None:
    keyed = keyed_predictions(PREDICTIONS, FEATURES, LabelsSettings(key=["machine_id"]), WINDOW)
    assert list(keyed["machine_id"]) == ["a", "b"]


def test_a_key_column_nowhere_is_one_clear_error() -> None:
    with pytest.raises(LabelsError, match="key column 'ts' is neither"):
        keyed_predictions(PREDICTIONS, FEATURES, LabelsSettings(key=["ts"]), WINDOW)


ANSWERED = [
    ("req-a", [{"machine_id": "m1", "score": 0.2}, {"machine_id": "m2", "score": 0.7}]),
    ("req-b", []),
    ("req-c", [{"machine_id": "m3", "score": None}]),
]


def test_an_online_window_keeps_every_answered_row_with_its_request_id() -> None:
    frame = online_frame(ANSWERED, LabelsSettings())
    assert list(frame["_request_id"]) == ["req-a", "req-a", "req-c"]
    assert list(frame["prediction_id"]) == ["req-a-0", "req-a-1", "req-c-0"]
    assert list(frame["machine_id"]) == ["m1", "m2", "m3"]
    assert frame["score"].dtype == "float64" and frame["score"].isna().tolist() == [0, 0, 1]


def test_an_online_window_keyed_by_output_columns_needs_them_in_the_output() -> None:
    keyed = online_frame(ANSWERED, LabelsSettings(key=["machine_id"]))
    assert "prediction_id" not in keyed.columns and len(keyed) == 3
    with pytest.raises(LabelsError, match="key column 'ts' is not in the online output"):
        online_frame(ANSWERED, LabelsSettings(key=["ts"]))


def test_label_settings_read_durations_and_refuse_repeated_key_columns() -> None:
    settings = LabelsSettings.model_validate({"label_delay": "2h", "key": ["a", "b"]})
    assert settings.label_delay == timedelta(hours=2) and settings.key_columns == ["a", "b"]
    with pytest.raises(ValueError, match="distinct"):
        LabelsSettings(key=["a", "a"])


def test_predictions_are_logged_only_when_shipml_toml_has_a_labels_table(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert not labels_configured(Project.load(write_project(plain)))
    keyed = tmp_path / "keyed"
    keyed.mkdir()
    project = Project.load(write_project(keyed, settings=SETTINGS + '\n[labels]\nkey = ["id"]\n'))
    assert labels_configured(project) and project.settings.labels.key == ["id"]
