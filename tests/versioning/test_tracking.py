"""MLflow tracking and registry, against a real MLflow with a SQLite backend."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from shipml.versioning.tracking import RegistryError, Tracker


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    return Tracker(
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        experiment="sensors",
        model_name="sensors-failure",
        artifact_root=tmp_path / "artifacts",
    )


def features(seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"temperature": rng.normal(60, 10, 200), "vibration": rng.gamma(2, 1, 200)})
    return x, x["temperature"] > 60


class Threshold:
    """A model without an MLflow flavor of its own."""

    def __init__(self, cut: float) -> None:
        self.cut = cut

    def predict(self, x: pd.DataFrame) -> pd.Series:
        return x["temperature"] > self.cut


def test_train_register_promote_and_load_the_champion(tracker: Tracker) -> None:
    x, y = features(0)
    first = tracker.log_training(
        model=LogisticRegression().fit(x, y),
        params={"C": 1.0},
        metrics={"auc": 0.91},
        tags={"shipml.data_version": "md5:aaa", "mlflow.source.git.commit": "abc123"},
        input_example=x.head(3),
        baseline={"rows": 200},
    )
    second = tracker.log_training(
        model=Threshold(61.0),
        params={"cut": 61.0},
        metrics={"auc": 0.88},
        tags={"shipml.data_version": "md5:bbb"},
        input_example=x.head(3),
    )
    assert (first.version, second.version) == ("1", "2")

    with pytest.raises(RegistryError, match=r"no version .* has alias 'champion'"):
        tracker.load()
    tracker.promote(first.version)
    loaded = tracker.load()
    assert isinstance(loaded.model, LogisticRegression)
    assert loaded.ref.version == "1" and loaded.ref.alias == "champion"
    assert loaded.info.data_version == "md5:aaa" and loaded.info.git_commit == "abc123"
    assert loaded.baseline == {"rows": 200}

    tracker.promote(second.version)
    loaded = tracker.load()
    assert isinstance(loaded.model, Threshold) and loaded.model.cut == 61.0
    assert loaded.baseline is None

    versions = tracker.versions()
    assert [v.ref.version for v in versions] == ["2", "1"]
    assert versions[0].aliases == ("champion",) and versions[1].aliases == ()
    assert versions[1].metrics == {"auc": 0.91}
    assert versions[1].data_version == "md5:aaa"


def test_promoting_a_version_that_does_not_exist_is_refused(tracker: Tracker) -> None:
    x, y = features(1)
    tracker.log_training(
        model=LogisticRegression().fit(x, y), params={}, metrics={}, tags={}, input_example=x
    )
    with pytest.raises(RegistryError, match="has no version 7"):
        tracker.promote("7")


def test_a_registry_whose_database_fails_is_named_not_taken_for_a_missing_alias(
    tracker: Tracker, tmp_path: Path
) -> None:
    x, y = features(0)
    tracker.log_training(
        model=LogisticRegression().fit(x, y),
        params={},
        metrics={},
        tags={},
        input_example=x.head(3),
    )
    with sqlite3.connect(tmp_path / "mlflow.db") as database:  # it answers, then fails
        database.execute("DROP TABLE registered_model_aliases")
        database.execute("DROP TABLE model_versions")

    asked = (
        tracker.resolve,
        lambda: tracker.promote("1"),
        tracker.versions,
        lambda: tracker.version("1"),
        lambda: tracker.current("champion"),  # not "no champion", which would skip the gate
        lambda: tracker.resolve_if_set("challenger"),
    )
    for asking in asked:
        with pytest.raises(RegistryError) as failed:
            asking()
        message = str(failed.value)
        assert message.startswith(f"registry at sqlite:///{tmp_path / 'mlflow.db'} failed: ")
        assert "no such table" in message and "\n" not in message


def test_an_artifact_the_store_cannot_hand_back_fails_loudly(tracker: Tracker) -> None:
    x, y = features(0)
    kept = tracker.log_training(
        model=LogisticRegression().fit(x, y),
        params={},
        metrics={},
        tags={},
        input_example=x.head(3),
        baseline={"rows": 200},
        holdout=x.assign(target=y),
    )
    without = tracker.log_training(
        model=LogisticRegression().fit(x, y),
        params={},
        metrics={},
        tags={},
        input_example=x.head(3),
    )
    assert tracker.holdout(without.version) is None  # never logged: nothing to compare on
    assert len(tracker.holdout(kept.version)) == 200

    assert tracker.artifact_root is not None
    for logged in tracker.artifact_root.rglob("shipml/*"):
        logged.unlink()  # the artifact store lost them after training
    with pytest.raises(RegistryError, match=r"cannot read shipml/holdout.parquet of run"):
        tracker.holdout(kept.version)
    with pytest.raises(RegistryError, match=r"cannot read shipml/baseline.json of run"):
        tracker.load_version(kept.version)
