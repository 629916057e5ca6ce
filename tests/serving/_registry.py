"""A project whose model versions live in a real MLflow registry (PostgreSQL backend)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL

from shipml.project.project import Project


@dataclass(frozen=True)
class Registry:
    """A project whose model has two registered versions in a PostgreSQL MLflow registry."""

    url: URL  # the registry's database
    directory: Path  # the project
    versions: tuple[str, str]

    def project(self, alias_to: str | None = None) -> Project:
        """The project, loaded afresh; with `alias_to`, champion is moved to that version."""
        project = Project.load(self.directory)
        if alias_to is not None:
            project.tracker.promote(alias_to)
        return project
