"""Versions of everything a run used: MLflow tracking and registry, git, data, shipml."""

from shipml.versioning.lineage import GitState, dvc_md5, file_version, git_state, shipml_version
from shipml.versioning.tracking import (
    CLASSES_TAG,
    POSITIVE_LABEL_TAG,
    TASK_TAG,
    THRESHOLD_TAG,
    LoadedModel,
    ModelRef,
    ModelVersionInfo,
    Tracker,
)

__all__ = [
    "CLASSES_TAG",
    "POSITIVE_LABEL_TAG",
    "TASK_TAG",
    "THRESHOLD_TAG",
    "GitState",
    "LoadedModel",
    "ModelRef",
    "ModelVersionInfo",
    "Tracker",
    "dvc_md5",
    "file_version",
    "git_state",
    "shipml_version",
]
