"""A scratch copy of a notebook's folder, so that running it never writes next to it.

Notebooks write files where they stand: a submission, a model pickle, `!conda list >
environment.txt`. Both `check --run` and `convert` run the notebook in a copy of its folder
(the data it reads included), so the original folder stays byte for byte as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# Folders a notebook does not read from and that can be large: version control, environments.
_SKIPPED = shutil.ignore_patterns(".git", ".hg", ".svn", ".venv", "venv", "node_modules",
                                  "__pycache__", ".ipynb_checkpoints", ".mypy_cache")  # fmt: skip


def sandbox_copy(folder: Path, target: Path) -> Path:
    """Copy `folder` (without version control or virtual environments) to `target`."""
    shutil.copytree(folder, target, ignore=_SKIPPED, symlinks=True)
    return target
