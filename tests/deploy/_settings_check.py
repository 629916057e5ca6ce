"""Whether SHIPML_* variables name real settings: load a new project's settings with them."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shipml.config import Settings, load_settings
from shipml.scaffold import init_project

# The image script's own variables: not settings (see deploy/image/shipml-image).
IMAGE_VARIABLES = {"SHIPML_PROJECT_DIR", "SHIPML_EXTRAS"}


def settings_with(variables: Mapping[str, str], directory: Path) -> Settings:
    """The settings of a new project in `directory` with these variables set (only them)."""
    project = init_project(directory, "probe")
    shipml = {k: v for k, v in variables.items() if k not in IMAGE_VARIABLES}
    with _environment(shipml):
        return load_settings(project)


def setting(settings: Settings, variable: str) -> Any:
    """The value of `SHIPML_A__B` in `settings` (secrets revealed)."""
    value: Any = settings
    for part in variable.removeprefix("SHIPML_").lower().split("__"):
        value = getattr(value, part)
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith("SHIPML_")}
    for name in saved:
        del os.environ[name]
    os.environ.update(variables)
    try:
        yield
    finally:
        for name in variables:
            os.environ.pop(name, None)
        os.environ.update(saved)
