"""Scoring registered models on the same labelled rows, for the promotion gate.

What the rows are is pluggable (`EvaluationData`): today the candidate's holdout, kept with
its model version at training time; a range of labelled production data can be another
kind with the same two methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, cast

import pandas as pd

from shipml.errors import RegistryError, TrainingError
from shipml.project.project import Project
from shipml.project.targets import ResolvedTask, Target, read_target
from shipml.project.task_metrics import score_holdout
from shipml.project.training import prediction_layout, score_rows
from shipml.versioning.tracking import LoadedModel, ModelVersionInfo


class EvaluationData(Protocol):
    """Labelled rows (raw input columns and the target) both models are scored on."""

    def describe(self) -> str:
        """What the rows are, for the comparison table ('holdout of v4')."""
        ...

    def rows(self, project: Project) -> pd.DataFrame:
        """The rows, as training reads them (target column included)."""
        ...


@dataclass(frozen=True)
class CandidateHoldout:
    """The holdout the candidate was evaluated on at training time."""

    version: str

    def describe(self) -> str:
        """'holdout of v4'."""
        return f"holdout of v{self.version}"

    def rows(self, project: Project) -> pd.DataFrame:
        """The holdout kept with the version in the registry."""
        found = project.tracker.holdout(self.version)
        if found is None:
            raise RegistryError(
                f"version {self.version} of {project.tracker.model_name!r} has no stored holdout "
                "(trained before shipml kept them): retrain it, or promote with --force"
            )
        return found


def target_of(project: Project, info: ModelVersionInfo, rows: pd.DataFrame) -> Target:
    """The target as the version was trained on (its stored task and classes)."""
    settings = project.settings.training
    if settings is None:
        raise TrainingError("shipml.toml has no [training] section (data, target)")
    if settings.target not in rows.columns:
        raise TrainingError(f"the evaluation rows have no target column {settings.target!r}")
    if info.task is None:
        return read_target(rows, settings)
    task = cast(ResolvedTask, info.task)  # training writes only the three resolved tasks
    return Target(settings.target, task, tuple(info.classes or ()), info.positive_label)


def metrics_on(
    project: Project, model: LoadedModel, rows: pd.DataFrame, target: Target
) -> dict[str, float]:
    """The task's metrics of `model` on labelled `rows`, at the model's own threshold."""
    target, layout = prediction_layout(project, target)
    features = rows.drop(columns=[target.column])
    scored = score_rows(project, model.model, features, model.threshold)
    predictions: pd.DataFrame = scored.output
    truth = rows[target.column].loc[predictions.index]
    threshold = model.info.threshold if target.task == "binary" else None
    return score_holdout(target, layout, truth, predictions, threshold).metrics
