"""The row shapes crossing each boundary of the sensors pipeline, as Pydantic models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

LABEL = "failure_within_1h"
MACHINE_ID_PATTERN = r"^M-\d{3}$"
Mode = Literal["idle", "run", "maintenance"]
RiskLevel = Literal["low", "medium", "high"]


class Reading(BaseModel):
    """One raw reading of one machine's sensors, taken once a minute."""

    machine_id: str = Field(pattern=MACHINE_ID_PATTERN, description="e.g. M-007")
    ts: datetime = Field(description="when the reading was taken (UTC)")
    temperature_c: float | None = Field(ge=-40, le=150, description="null when the sensor drops")
    vibration_mm_s: float = Field(ge=0, le=100)
    pressure_bar: float = Field(ge=0, le=20)
    rpm: float = Field(ge=0, le=10_000)
    mode: Mode


class LabelledReading(Reading):
    """A reading with what happened next: did the machine fail within the hour?"""

    failure_within_1h: bool


class Clean(Reading):
    """A reading after preprocess: `ts` in UTC, sensor values as floats."""


class Features(BaseModel):
    """What the model sees for one reading; every feature is computed from that row alone."""

    machine_id: str = Field(pattern=MACHINE_ID_PATTERN)
    ts: datetime
    temperature_c: float | None = Field(ge=-40, le=150)
    temperature_missing: bool
    vibration_mm_s: float = Field(ge=0)
    pressure_bar: float = Field(ge=0)
    rpm: float = Field(ge=0)
    rpm_deviation: float = Field(ge=0, description="distance from the nominal 1500 rpm")
    vibration_per_krpm: float = Field(ge=0)
    heat_x_vibration: float | None = Field(description="temperature times vibration")
    mode_idle: bool
    mode_run: bool
    mode_maintenance: bool


class LabelledFeatures(Features):
    """Features with the label, as train takes them."""

    failure_within_1h: bool


class Prediction(BaseModel):
    """The model's estimate that a machine fails within the hour after a reading."""

    machine_id: str = Field(pattern=MACHINE_ID_PATTERN)
    ts: datetime
    failure_probability: float = Field(ge=0, le=1)
    failure_predicted: bool


class ScoredReading(Prediction):
    """A prediction with the risk level maintenance crews act on."""

    risk: RiskLevel
