"""A batch window scored by the challenger too, into an output of its own (opt-in)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from _projects import SETTINGS, WINDOW_START, fitted_model, write_project
from shipml.project.batch import run_window
from shipml.project.project import Project
from shipml.windows import Window

FIRST = Window(WINDOW_START, WINDOW_START + timedelta(minutes=15))
SECOND = Window(FIRST.end, FIRST.end + timedelta(minutes=15))


def test_the_challenger_scores_the_window_into_its_own_output_while_its_alias_is_set(
    tmp_path: Path,
) -> None:
    settings = f"{SETTINGS}\n[model]\nchallenger_in_batch = true\n"
    project = Project.load(write_project(tmp_path, settings=settings))
    train = pd.read_csv(tmp_path / "data" / "train.csv")
    other = LogisticRegression(C=1e-4).fit(train[["temperature_c"]], train["failed"])
    example = pd.DataFrame({"temperature_c": [70.0]})
    champion, challenger = [
        project.tracker.log_training(
            model=model, params={}, metrics={}, tags={}, input_example=example
        ).version
        for model in (fitted_model(tmp_path).model, other)
    ]
    project.tracker.promote(champion)
    project.tracker.promote(challenger, alias="challenger")

    scored = run_window(project, FIRST)
    uri = project.tracker.tracking_uri
    MlflowClient(uri, uri).delete_registered_model_alias("toy", "challenger")
    alone = run_window(project, SECOND)

    assert scored.challenger is not None and scored.challenger.error is None
    assert scored.challenger.version == challenger
    assert scored.challenger.output is not None and "toy.challenger" in scored.challenger.output
    ours, theirs = pd.read_parquet(scored.output), pd.read_parquet(scored.challenger.output)
    assert set(ours["model_version"]) == {champion} and set(theirs["model_version"]) == {challenger}
    assert len(ours) == len(theirs) == 75
    assert not ours["failure_probability"].equals(theirs["failure_probability"])
    assert alone.status == "succeeded" and alone.challenger is None  # no alias, no second output
