"""A small but complete shipml project, written into a directory for end-to-end tests."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from shipml.versioning.tracking import LoadedModel, ModelRef, ModelVersionInfo

CONTRACTS = """
from datetime import datetime

from pydantic import BaseModel, Field


class Reading(BaseModel):
    machine_id: str = Field(pattern=r"^M-\\d+$")
    ts: datetime
    temperature_c: float = Field(ge=-40, le=150)


class Features(BaseModel):
    machine_id: str
    ts: datetime
    temperature_c: float
    hot: bool


class Labelled(Features):
    failed: bool


class Scored(BaseModel):
    machine_id: str
    ts: datetime
    failure_probability: float = Field(ge=0, le=1)
"""

STEPS = """
import pandas as pd
from sklearn.linear_model import LogisticRegression

from contracts import Features, Labelled, Reading, Scored
from shipml import Table, step


@step
def featurize(readings: Table[Reading]) -> Table[Features]:
    return readings.assign(hot=readings["temperature_c"] > 80)


@step
def train(rows: Table[Labelled]) -> LogisticRegression:
    return LogisticRegression().fit(rows[["temperature_c"]], rows["failed"])


@step
def predict(features: Table[Features], model: LogisticRegression) -> Table[Scored]:
    probability = model.predict_proba(features[["temperature_c"]])[:, 1]
    return features[["machine_id", "ts"]].assign(failure_probability=probability)
"""

PIPELINE = """
from shipml import Pipeline
from steps import featurize, predict, train

pipeline = Pipeline(
    "toy", transforms=[featurize], train=train, predict=predict, target="failed"
)
"""

SETTINGS = """
[project]
name = "toy"

[source]
kind = "files"
path = "data/readings_{start:%Y%m%dT%H%M}.csv"

[training]
data = "data/train.csv"
target = "failed"
time_column = "ts"

[schedule]
every = "15m"
"""

WINDOW_START = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def readings(start: datetime, rows: int, seed: int) -> pd.DataFrame:
    """Per-minute readings of a few machines; hot machines fail more often."""
    rng = np.random.default_rng(seed)
    temperature = rng.normal(70, 15, rows).round(2)
    return pd.DataFrame(
        {
            "machine_id": [f"M-{i % 5}" for i in range(rows)],
            "ts": [(start + timedelta(minutes=i // 5)).isoformat() for i in range(rows)],
            "temperature_c": temperature,
            "failed": rng.random(rows) < 1 / (1 + np.exp(-(temperature - 85) / 5)),
        }
    )


def write_project(directory: Path, *, settings: str = SETTINGS) -> Path:
    """Write the toy project (code, settings, training data, two windows of input)."""
    for name, source in (
        ("contracts.py", CONTRACTS),
        ("steps.py", STEPS),
        ("pipeline.py", PIPELINE),
    ):
        (directory / name).write_text(textwrap.dedent(source).lstrip())
    (directory / "shipml.toml").write_text(textwrap.dedent(settings).lstrip())
    data = directory / "data"
    data.mkdir(exist_ok=True)
    readings(WINDOW_START - timedelta(days=1), 2000, seed=0).to_csv(data / "train.csv", index=False)
    for offset in (0, 15):
        start = WINDOW_START + timedelta(minutes=offset)
        window = readings(start, 75, seed=offset + 1).drop(columns=["failed"])
        window.to_csv(data / f"readings_{start:%Y%m%dT%H%M}.csv", index=False)
    return directory


def fitted_model(directory: Path, *, baselines: bool = True) -> LoadedModel:
    """The toy model fitted on the project's training data, as the registry would hand it over.

    With `baselines`, it carries the input and monitoring baselines training would store.
    """
    from sklearn.linear_model import LogisticRegression

    from shipml.contracts import Baseline
    from shipml.monitoring import MonitoringBaseline
    from shipml.project.baselines import ModelBaselines

    train = pd.read_csv(directory / "data" / "train.csv")
    model = LogisticRegression().fit(train[["temperature_c"]], train["failed"])
    info = ModelVersionInfo(
        ref=ModelRef("toy", "1", "champion"), aliases=("champion",), created_at=WINDOW_START
    )
    if not baselines:
        return LoadedModel(model=model, info=info, baseline=None)
    features = train.drop(columns=["failed"]).assign(hot=train["temperature_c"] > 80)
    scores = pd.DataFrame(
        {"failure_probability": model.predict_proba(train[["temperature_c"]])[:, 1]}
    )
    monitoring = MonitoringBaseline.from_training(
        features[["temperature_c", "hot"]], scores, "failure_probability"
    )
    inputs = Baseline.from_frame(train.drop(columns=["failed"]))
    payload = ModelBaselines(inputs=inputs, monitoring=monitoring).to_json()
    return LoadedModel(model=model, info=info, baseline=payload)
