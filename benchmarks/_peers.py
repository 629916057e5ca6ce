"""Peer tools in virtualenvs of their own, made on first use (they pin what shipml does not)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def peer_environment(venv: Path, requirements: Sequence[str], *, what: str, ready: str) -> Path:
    """The python of `venv`, made with `requirements` unless its bin/`ready` exists."""
    python = venv / "bin" / "python"
    if (venv / "bin" / ready).exists():
        return python
    print(f"creating {venv} for {what}", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
    return python
