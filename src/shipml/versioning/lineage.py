"""The versions behind a run: git commit of the project, data version, shipml version."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd
import yaml

_CHUNK = 1 << 20


@dataclass(frozen=True)
class GitState:
    """The project's commit and whether its working tree has uncommitted changes."""

    commit: str | None
    dirty: bool | None


def git_state(directory: Path) -> GitState:
    """The git commit and dirty flag of `directory`, or unknowns when it is not in a repository."""
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None:
        return GitState(commit=None, dirty=None)
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    return GitState(commit=commit, dirty=bool(status))


def _git(directory: Path, *args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=directory, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def file_version(path: Path) -> str:
    """`md5:<hash>` when DVC tracks `path` (its .dvc file or dvc.lock), else `sha256:<hash>`."""
    tracked = dvc_md5(path)
    if tracked is not None:
        return f"md5:{tracked}"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def frame_version(frame: pd.DataFrame) -> str:
    """`sha256:<hash>` of a frame's content (for data that comes from no file)."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    header = "\x1f".join(map(str, frame.columns)).encode()
    return "sha256:" + hashlib.sha256(header + hashed.tobytes()).hexdigest()


def dvc_md5(path: Path) -> str | None:
    """The md5 DVC recorded for `path`, from `<path>.dvc` or a `dvc.lock` above it."""
    path = path.resolve()
    dvc_file = path.with_name(path.name + ".dvc")
    if dvc_file.is_file():
        return _md5_in_outs(_read_yaml(dvc_file).get("outs", []), dvc_file.parent, path)
    for directory in path.parents:
        lock = directory / "dvc.lock"
        if lock.is_file():
            stages = _read_yaml(lock).get("stages", {}) or {}
            for stage in stages.values():
                found = _md5_in_outs(stage.get("outs", []), directory, path)
                if found is not None:
                    return found
        if (directory / ".dvc").is_dir():
            break
    return None


def _read_yaml(path: Path) -> dict:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def _md5_in_outs(outs: list[dict], base: Path, path: Path) -> str | None:
    for out in outs or []:
        if (base / str(out.get("path", ""))).resolve() == path and out.get("md5"):
            return str(out["md5"])
    return None


def shipml_version() -> str:
    """The installed shipml version."""
    try:
        return version("shipml")
    except PackageNotFoundError:
        return "0.0.0"
