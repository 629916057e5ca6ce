"""The toy project with a line of its code changed, for cases the toy itself never hits."""

from __future__ import annotations

from pathlib import Path

from _projects import CONTRACTS, STEPS, write_project
from shipml.project.project import Project

Change = tuple[str, str]


def toy_variant(
    directory: Path, *, steps: Change | None = None, contracts: Change | None = None
) -> Project:
    """Write the toy project into `directory` with `old` replaced by `new` in a file."""
    write_project(directory)
    for name, source, change in (
        ("steps.py", STEPS, steps),
        ("contracts.py", CONTRACTS, contracts),
    ):
        if change is not None:
            old, new = change
            assert old in source, f"{old!r} is not in the toy's {name}"
            (directory / name).write_text(source.replace(old, new).lstrip())
    return Project.load(directory)
