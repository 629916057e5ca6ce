"""Headless Chromium (Debian's `chromium` package), run once per call, offline and isolated."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def chromium(*arguments: str, profile_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once, isolated from any network and user profile."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "chromium is not installed; install Debian's package: apt-get install -y chromium",
            pytrace=False,
        )
    command = [
        executable,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile_dir}",
        "--virtual-time-budget=30000",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
