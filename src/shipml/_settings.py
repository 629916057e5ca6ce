"""Building blocks of shipml.toml's tables, shared by the settings models beside their code.

A settings model lives in the module of what it configures (a source kind in
`shipml.io.sources`, the alert webhook in `shipml.alerting.sinks`); `shipml.config` composes
them. This module is what they share: the strict table base, the value types and paths.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from shipml.windows import parse_interval

DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")
_SHOWN_INPUT_CHARS = 60
_URL_EXAMPLES = "'postgresql+psycopg://user@host/db' or 'sqlite:///data.db'"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class Section(BaseModel):
    """A table of shipml.toml: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


def show(value: Any) -> str:
    """A short repr of a bad value for an error message."""
    shown = repr(value)
    if len(shown) > _SHOWN_INPUT_CHARS:
        return shown[: _SHOWN_INPUT_CHARS - 3] + "..."
    return shown


def _duration(value: Any) -> Any:
    """Text like '15m' -> timedelta (a timedelta passes through)."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a duration like '15m' or '1h', got {show(value)}")
    return parse_interval(value)


def _database_url(value: Any) -> Any:
    """Check that `value` is a SQLAlchemy database URL whose dialect and driver are installed."""
    if value is None:
        return None
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(
            f"expected a database URL like {_URL_EXAMPLES}, got {show(value)}"
        ) from None
    shown = show(url.render_as_string(hide_password=True))
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ValueError(
            f"unknown database kind {url.drivername!r} in {shown}; expected a URL like "
            f"{_URL_EXAMPLES}"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as error:
        raise ValueError(
            f"the database driver of {shown} is not installed ({error}); install it, or use "
            "postgresql+psycopg (installed with shipml)"
        ) from None
    return value


def check_safe_name(value: str) -> str:
    """`value` if it can name a file or directory as it is (no '/', no '..', no leading '.')."""
    if not _SAFE_NAME.fullmatch(value) or ".." in value:
        raise ValueError(
            f"expected letters, digits, '_', '-' and '.' (it names files and directories), "
            f"got {show(value)}"
        )
    return value


def check_data_file(value: Any) -> Any:
    """Check that a data path names a CSV or Parquet file."""
    if Path(str(value)).suffix.lower() not in DATA_SUFFIXES:
        raise ValueError(
            f"expected a path ending in .csv, .tsv, .parquet or .pq, got {show(str(value))}"
        )
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
DatabaseUrl = Annotated[str, BeforeValidator(_database_url)]
DataFile = Annotated[Path, BeforeValidator(check_data_file)]
DataPath = Annotated[str, BeforeValidator(check_data_file)]


def default_kind(kind: str) -> BeforeValidator:
    """A validator giving a table without `kind` the default kind of a discriminated union."""

    def with_kind(value: Any) -> Any:
        if isinstance(value, dict) and "kind" not in value:
            return {"kind": kind, **value}
        return value

    return BeforeValidator(with_kind)


def absolute(project_dir: Path, path: str | Path) -> Path:
    """`path` made absolute against `project_dir` (a leading '~' is the home directory)."""
    return project_dir / Path(path).expanduser()


def sqlite_absolute(project_dir: Path, url: str | None) -> str | None:
    """A SQLite URL whose relative database file is made absolute; other URLs unchanged."""
    if url is None or not url.startswith("sqlite"):
        return url
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return url
    return parsed.set(database=str(absolute(project_dir, database))).render_as_string(
        hide_password=False
    )
