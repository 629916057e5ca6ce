"""The versions behind a run: git commit of the project, data version, shipml version."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

_HASH_BLOCK = 1 << 20


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


def file_version(file: Path) -> str:
    """'md5:<hash>' when DVC tracks `file` and it is unchanged, else 'sha256:<hash of bytes>'."""
    tracked = dvc_md5(file)
    if tracked is not None and _digest(file, "md5") == tracked:
        return f"md5:{tracked}"
    return f"sha256:{_digest(file, 'sha256')}"


def dvc_md5(file: Path) -> str | None:
    """The md5 DVC recorded for `file`: in `<file>.dvc` beside it, or in a `dvc.lock` above."""
    beside = file.with_name(file.name + ".dvc")
    if beside.is_file():
        return _md5_of_out(beside, beside.parent, file)
    for folder in file.resolve().parents:
        lock = folder / "dvc.lock"
        if lock.is_file():
            found = _md5_of_out(lock, folder, file)
            if found is not None:
                return found
        if (folder / ".dvc").is_dir():  # the root of the DVC repository
            return None
    return None


def _md5_of_out(metafile: Path, folder: Path, file: Path) -> str | None:
    """The md5 of `file` among the outputs listed in a `.dvc` file or `dvc.lock`."""
    try:
        document = yaml.safe_load(metafile.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # an unreadable DVC file: the content hash still versions the data
    target = file.resolve()
    for out in _outs(document):
        path, md5 = out.get("path"), out.get("md5")
        if isinstance(path, str) and isinstance(md5, str) and (folder / path).resolve() == target:
            return md5
    return None


def _outs(document: Any) -> Iterator[dict[str, Any]]:
    """The `outs` entries of a `.dvc` file or of every stage of a `dvc.lock`."""
    if not isinstance(document, dict):
        return
    tables = [document, *(document.get("stages") or {}).values()]
    for table in tables:
        outs = table.get("outs") if isinstance(table, dict) else None
        for out in outs if isinstance(outs, list) else []:
            if isinstance(out, dict):
                yield out


def _digest(file: Path, algorithm: str) -> str:
    """The hex digest of a file's bytes."""
    digest = hashlib.new(algorithm)
    with file.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def shipml_version() -> str:
    """The installed shipml version."""
    try:
        return version("shipml")
    except PackageNotFoundError:
        return "0.0.0"
