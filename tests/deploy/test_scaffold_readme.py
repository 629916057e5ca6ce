"""The README that `shipml init` writes: its commands work after shipml's own install (the
image's, the same packages as `make demo`'s), and it says which tools to add for the rest."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path

import pytest
from _image_venv import run, venv_environment

from shipml.scaffold import init_project

# The shared fixtures (the image virtualenv, the demo) take minutes on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

GIT_IDENTITY = {
    f"GIT_{who}_{what}": value
    for who in ("AUTHOR", "COMMITTER")
    for what, value in (("NAME", "t"), ("EMAIL", "t@t"))
}


def readme_blocks(project: Path) -> list[list[str]]:
    """The commands of each `sh` block of the project's README, comments left out."""
    blocks = re.findall(r"```sh\n(.*?)```", (project / "README.md").read_text(), re.S)
    return [
        [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
        for block in blocks
    ]


def test_the_readme_commands_work_after_installing_shipml_and_what_it_says(
    image_venv: Path, tmp_path: Path
) -> None:
    project = init_project(tmp_path / "churn", "churn")
    shipml_only = venv_environment(image_venv, GIT_IDENTITY)
    # The test environment: this checkout's shipml, with pytest and DVC.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    with_tools = {**os.environ, "PATH": path, "DVC_NO_ANALYTICS": "1", **GIT_IDENTITY}
    first, second = readme_blocks(project)
    install, *rest = second
    installed = run(["python", "-m", "pip", "list"], env=shipml_only).lower()

    for command in first:  # with shipml's install alone
        run(["sh", "-c", command], env=shipml_only, cwd=project, timeout=300)
    # The tools the README names are the ones shipml's install lacks.
    assert install.startswith("pip install ")
    named = {re.split(r"[<>=\[]", word)[0] for word in shlex.split(install)[2:]}
    assert named == {"pytest", "dvc"}
    assert not [tool for tool in named if f"\n{tool} " in f"\n{installed}"]
    for command in rest:  # with them (the test environment has both)
        run(["sh", "-c", command], env=with_tools, cwd=project, timeout=300)

    assert {"roc_auc", "accuracy"} <= set(json.loads((project / "metrics.json").read_text()))
    assert (project / "dvc.lock").is_file()
