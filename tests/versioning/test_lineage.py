"""Lineage: the git state of a project and the version of its data."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd

from shipml.versioning.lineage import dvc_md5, file_version, frame_version, git_state


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


def test_a_dvc_tracked_file_is_versioned_by_the_md5_in_its_dvc_file(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("a\n1\n")
    (tmp_path / "train.csv.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n"
        "  size: 4\n  hash: md5\n  path: train.csv\n"
    )
    assert dvc_md5(data) == "0123456789abcdef0123456789abcdef"
    assert file_version(data) == "md5:0123456789abcdef0123456789abcdef"


def test_a_stage_output_is_versioned_by_dvc_lock(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    data = tmp_path / "data" / "features.parquet"
    data.write_bytes(b"x")
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  featurize:\n    cmd: python f.py\n    outs:\n"
        "    - path: data/features.parquet\n      hash: md5\n      md5: ffffeeee\n"
    )
    assert file_version(data) == "md5:ffffeeee"


def test_frames_with_the_same_content_have_the_same_version() -> None:
    a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    assert frame_version(a) == frame_version(a.copy())
    assert frame_version(a) != frame_version(a.assign(x=[1, 3]))
    assert frame_version(a) != frame_version(a.rename(columns={"x": "z"}))
