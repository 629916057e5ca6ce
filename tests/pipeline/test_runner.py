"""The runner validates every boundary, times every step, and never loses a row or an error."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import BaseModel, Field

from shipml import Pipeline, Table
from shipml.contracts import ContractViolation
from shipml.pipeline import BoundaryPolicy, FlowFailed, Policies, run_flow


class Reading(BaseModel):
    machine: str
    temperature: float = Field(ge=-40, le=150)


class Features(BaseModel):
    machine: str
    temperature: float
    hot: bool


class Labelled(Features):
    failed: bool


class Scored(BaseModel):
    machine: str
    risk: float = Field(ge=0, le=1)


def featurize(readings: Table[Reading]) -> Table[Features]:
    return readings.assign(hot=readings["temperature"] > 80)


def train(rows: Table[Labelled]) -> dict[str, float]:
    return {"hot_failure_rate": float(rows.loc[rows["hot"], "failed"].mean())}


def predict(features: Table[Features], model: dict[str, float]) -> Table[Scored]:
    risk = features["hot"].map({True: model["hot_failure_rate"], False: 0.0})
    return pd.DataFrame({"machine": features["machine"], "risk": risk})


PIPELINE = Pipeline("toy", transforms=[featurize], train=train, predict=predict, target="failed")
MODEL = {"hot_failure_rate": 0.5}


def readings(*temperatures: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"machine": [f"m{i}" for i in range(len(temperatures))], "temperature": temperatures}
    )


def test_a_clean_batch_runs_every_step_and_counts_rows() -> None:
    result = run_flow(PIPELINE.online, readings(20.0, 90.0, 95.0), context={"model": MODEL})
    assert result.output["risk"].tolist() == [0.0, 0.5, 0.5]
    assert [t.step for t in result.steps] == ["featurize", "predict"]
    assert all(t.duration_s >= 0 and t.rows_out == 3 for t in result.steps)
    assert (result.rows_in, result.rows_valid, result.rows_quarantined, result.rows_out) == (
        3, 3, 0, 3
    )  # fmt: skip
    boundaries = [b.boundary for b in result.boundaries]
    assert boundaries == ["featurize.input", "featurize.output", "predict.output"]


def test_quarantine_sets_rows_aside_with_reasons_and_the_rest_go_on() -> None:
    policies = Policies(overrides={"featurize.input": BoundaryPolicy("quarantine", 0.5)})
    result = run_flow(
        PIPELINE.online, readings(20.0, 900.0, 95.0), context={"model": MODEL}, policies=policies
    )
    assert result.rows_in == result.rows_valid + result.rows_quarantined == 3
    assert result.output["machine"].tolist() == ["m0", "m2"]
    quarantined = result.boundaries[0].quarantined
    assert quarantined["temperature"].tolist() == [900.0]
    assert quarantined["_reasons"].tolist() == ["temperature: less_than_equal"]


def test_a_rejected_boundary_fails_the_flow_and_keeps_the_report() -> None:
    with pytest.raises(FlowFailed) as failed:
        run_flow(PIPELINE.online, readings(20.0, 900.0), context={"model": MODEL})
    assert failed.value.boundary == "featurize.input"
    assert isinstance(failed.value.error, ContractViolation)
    assert failed.value.result.boundaries[0].report.invalid_rows == 1


def test_a_step_that_raises_is_reported_with_its_name_and_traceback() -> None:
    def broken_predict(features: Table[Features], model: dict[str, float]) -> Table[Scored]:
        raise KeyError("risk_table")

    pipeline = Pipeline(
        "broken", transforms=[featurize], train=train, predict=broken_predict, target="failed"
    )
    with pytest.raises(FlowFailed) as failed:
        run_flow(pipeline.online, readings(20.0), context={"model": MODEL})
    assert failed.value.step == "broken_predict"
    assert "KeyError: 'risk_table'" in failed.value.traceback
    assert [t.step for t in failed.value.result.steps] == ["featurize"]


def test_a_step_whose_output_breaks_its_contract_is_caught_at_its_output() -> None:
    def overconfident(features: Table[Features], model: dict[str, float]) -> Table[Scored]:
        return pd.DataFrame({"machine": features["machine"], "risk": 2.0})

    pipeline = Pipeline(
        "p", transforms=[featurize], train=train, predict=overconfident, target="failed"
    )
    with pytest.raises(FlowFailed, match=r"overconfident\.output"):
        run_flow(pipeline.online, readings(20.0), context={"model": MODEL})


def test_training_carries_the_target_around_the_transforms() -> None:
    data = readings(20.0, 90.0, 95.0).assign(failed=[False, True, False])
    result = run_flow(PIPELINE.training, data)
    assert result.output == {"hot_failure_rate": 0.5}


def test_training_data_without_the_target_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no target column 'failed'"):
        run_flow(PIPELINE.training, readings(20.0))


def test_a_transform_that_resets_the_index_cannot_lose_labels_silently() -> None:
    def reindexing(readings: Table[Reading]) -> Table[Features]:
        return featurize(readings.sort_values("temperature").reset_index(drop=True).iloc[1:])

    pipeline = Pipeline("p", transforms=[reindexing], train=train, predict=predict, target="failed")
    data = readings(95.0, 20.0, 90.0).assign(failed=[True, False, False])
    data.index = [10, 11, 12]
    with pytest.raises(ValueError, match="changed the frame's index"):
        run_flow(pipeline.training, data)
