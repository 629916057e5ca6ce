"""A fresh copy of the trained toy project per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from _failing import copy_project


@pytest.fixture
def project(trained_project: Path, tmp_path: Path) -> Path:
    """A copy of the trained toy project (its model stays in the shared registry)."""
    return copy_project(trained_project, tmp_path)
