"""Lineage: the git state of a project and the version of its data."""

from __future__ import annotations

import subprocess
from pathlib import Path

from shipml.versioning.lineage import file_version, git_state


def git(directory: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=directory, check=True, capture_output=True)


def test_outside_a_repository_the_commit_is_unknown(tmp_path: Path) -> None:
    state = git_state(tmp_path)
    assert state.commit is None and state.dirty is None


def test_a_commit_and_then_an_edit_make_the_tree_dirty(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "steps.py").write_text("x = 1\n")
    git(tmp_path, "add", "steps.py")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    clean = git_state(tmp_path)
    assert clean.commit is not None and len(clean.commit) == 40 and clean.dirty is False
    (tmp_path / "steps.py").write_text("x = 2\n")
    assert git_state(tmp_path) == type(clean)(commit=clean.commit, dirty=True)


def test_an_untracked_file_is_versioned_by_its_content(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a\n1\n")
    first = file_version(data)
    assert first.startswith("sha256:")
    data.write_text("a\n2\n")
    assert file_version(data) != first
