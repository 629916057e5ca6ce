"""Fixtures: shipml installed by the image's own steps, and a demo-trained project."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest
from _image_venv import REPO, run, venv_environment


@pytest.fixture(scope="session")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The virtualenv the image's `wheels` and `install` steps made (cached by
    scripts/image-env), with shipml's wheel from this checkout installed into it now."""
    venv = Path(
        subprocess.run(
            [sys.executable, str(REPO / "scripts" / "image-env")],
            capture_output=True, text=True, timeout=1800, check=True,
        ).stdout.strip()
    )  # fmt: skip
    wheels = tmp_path_factory.mktemp("wheel")
    environment = venv_environment(venv)
    offline = ["--no-index", "--find-links", str(venv.parent / "wheels")]
    with open(venv.parent / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one checkout's tests at a time reinstall shipml
        run(
            ["python", "-m", "pip", "wheel", "--quiet", "--no-deps", *offline,
             "--wheel-dir", str(wheels), str(REPO)],
            env=environment,
        )  # fmt: skip
        run(
            ["python", "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
             *offline, *map(str, wheels.glob("shipml-*.whl"))],
            env=environment,
        )  # fmt: skip
    run(["python", "-m", "pip", "check"], env=environment)  # every dependency is there
    return venv


@pytest.fixture(scope="session")
def demo_project(image_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`shipml demo`'s project (trained, model promoted, ten windows run) from the venv."""
    directory = tmp_path_factory.mktemp("demo") / "sensors"
    run(
        ["shipml", "demo", "--workdir", str(directory)],
        env=venv_environment(image_venv), timeout=900,
    )  # fmt: skip
    return directory
