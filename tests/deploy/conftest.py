"""Fixtures: shipml installed by the image's own steps, and a demo-trained project."""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
import zipfile
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
    installed = venv / "shipml-wheel.sha256"
    with open(venv.parent / "install.lock", "w") as lock:
        # Each pytest-xdist worker comes here; a reinstall while another worker runs shipml
        # from the venv would pull its modules away mid-import, so only a different wheel
        # is installed (the first worker installs it, the others find it there).
        fcntl.flock(lock, fcntl.LOCK_EX)
        run(
            ["python", "-m", "pip", "wheel", "--quiet", "--no-deps", *offline,
             "--wheel-dir", str(wheels), str(REPO)],
            env=environment,
        )  # fmt: skip
        (wheel,) = wheels.glob("shipml-*.whl")
        if not installed.exists() or installed.read_text() != _contents_digest(wheel):
            installed.unlink(missing_ok=True)
            run(
                ["python", "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
                 *offline, str(wheel)],
                env=environment,
            )  # fmt: skip
            installed.write_text(_contents_digest(wheel))
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


def _contents_digest(wheel: Path) -> str:
    """The wheel's RECORD (a hash of every file it holds): equal for equal sources, unlike
    the archive's own bytes, which carry build times."""
    with zipfile.ZipFile(wheel) as archive:
        (record,) = [name for name in archive.namelist() if name.endswith(".dist-info/RECORD")]
        return hashlib.sha256(archive.read(record)).hexdigest()
