"""The Dockerfile's stages and instructions, and the project's version."""

from __future__ import annotations

import re

from _image_venv import DEPLOY, REPO
from dockerfile_parse import DockerfileParser

DOCKERFILE = DEPLOY / "Dockerfile"
# Variable names that hold secrets (database URLs carry their password).
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|CREDENTIAL|STORE__URL|TRACKING__URI")


def stages() -> dict[str, list[tuple[str, str]]]:
    """The Dockerfile's instructions by stage name: (INSTRUCTION, value)."""
    parser = DockerfileParser(str(DOCKERFILE))
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for instruction in parser.structure:
        name, value = instruction["instruction"], instruction["value"]
        if name == "FROM":
            current = found.setdefault(value.split(" AS ")[-1], [])
        if name != "COMMENT":
            current.append((name, value))
    return found


def instructions(stage: str, name: str) -> list[str]:
    """The values of the `name` instructions of `stage`."""
    return [value for instruction, value in stages()[stage] if instruction == name]


def version() -> str:
    """shipml's version, from pyproject.toml."""
    match = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert match is not None
    return match.group(1)
