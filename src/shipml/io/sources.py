"""Where a batch window's input comes from: files (one per window, or one filtered) or SQL.

Every read returns the rows with a data version for lineage: the DVC md5 when DVC tracks the
file (and the file still matches it), else a sha256 of the file's bytes; for SQL, a sha256 of
the rows read.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, PrivateAttr, ValidationInfo, field_validator
from sqlalchemy import DateTime, Engine, bindparam, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from shipml._settings import (
    DatabaseUrl,
    Section,
    absolute,
    check_data_file,
    default_kind,
    show,
    sqlite_absolute,
)
from shipml.contracts.reading import PARQUET_SUFFIXES, read_table
from shipml.errors import MissingInput, SourceError, UnusableInput
from shipml.fingerprints import frame_version
from shipml.versioning.lineage import file_version
from shipml.windows import Window

_TEMPLATE_FIELDS = {"start", "end"}


@dataclass(frozen=True)
class SourceData:
    """The rows of one window, the version of the data they came from, and where from."""

    frame: pd.DataFrame
    version: str
    location: str


class Source(Protocol):
    """Anything that can read the input rows of a batch window."""

    def read(self, window: Window) -> SourceData:
        """The rows of `window`; raise `MissingInput` when they are not available yet."""
        ...


class FileSource(Section):
    """[source] kind = "files": one CSV/Parquet file per window, or one file cut by time.

    A template holds `{start}`/`{end}` with an optional strftime format, e.g.
    `data/{start:%Y-%m-%dT%H%M}.csv`. With `time_column`, only rows whose time lies in
    [start, end) are kept (naive times are UTC); Parquet files are filtered while reading.
    """

    kind: Literal["files"] = "files"
    path: str
    time_column: str | None = Field(default=None, validate_default=True)

    @field_validator("path", mode="before")
    @classmethod
    def _data_file_template(cls, value: Any) -> Any:
        if not isinstance(value, str | Path):
            return value  # Pydantic reports the wrong type
        value = str(check_data_file(value))
        unknown = _template_fields(value) - _TEMPLATE_FIELDS
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {sorted(unknown)} in {value!r}; "
                "only {start} and {end} (with an optional strftime format) are allowed"
            )
        return value

    @field_validator("time_column")
    @classmethod
    def _time_column_for_single_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        path = info.data.get("path")
        if path is not None and value is None and not _template_fields(path):
            raise ValueError(
                "required when source.path is one file (no {start}/{end} placeholders): "
                "give a time_column to cut it into windows"
            )
        return value

    @property
    def is_template(self) -> bool:
        """Whether each window has its own file."""
        return bool(_template_fields(self.path))

    def resolved(self, project_dir: Path) -> FileSource:
        """A copy with the path made absolute against `project_dir`."""
        return self.model_copy(update={"path": str(absolute(project_dir, self.path))})

    def location(self, window: Window) -> Path:
        """The file holding `window`'s rows."""
        return Path(self.path.format(start=window.start, end=window.end))

    def read(self, window: Window) -> SourceData:
        """The rows of `window`; `MissingInput` when its file does not exist."""
        file = self.location(window)
        if not file.is_file():
            raise MissingInput(str(file), window)
        if self.time_column is None:
            frame = read_table(file, allow_empty=True)
        else:
            frame = _rows_in_window(file, self.time_column, window)
        return SourceData(frame=frame, version=file_version(file), location=str(file))


class SqlSource(Section):
    """[source] kind = "sql": a query with `:start` and `:end` parameters, run for each window.

    On PostgreSQL the session time zone is UTC, so naive timestamp columns compare as UTC.
    """

    kind: Literal["sql"] = "sql"
    url: DatabaseUrl
    query: str

    _engine: Engine | None = PrivateAttr(default=None)

    @field_validator("query")
    @classmethod
    def _query_has_window_parameters(cls, value: str) -> str:
        parameters = set(text(value).compile().params)
        if parameters != _TEMPLATE_FIELDS:
            raise ValueError(
                "expected a query with exactly the bind parameters :start and :end, "
                f"got {sorted(parameters)} in {show(value)}"
            )
        return value

    @property
    def location(self) -> str:
        """The database URL with any password masked."""
        return make_url(self.url).render_as_string(hide_password=True)

    def resolved(self, project_dir: Path) -> SqlSource:
        """A copy with a relative SQLite file made absolute against `project_dir`."""
        return self.model_copy(update={"url": sqlite_absolute(project_dir, self.url)})

    def read(self, window: Window) -> SourceData:
        """The rows the query returns for `window`."""
        statement = text(self.query).bindparams(
            bindparam("start", type_=DateTime(timezone=True)),
            bindparam("end", type_=DateTime(timezone=True)),
        )
        try:
            with self._connected().connect() as connection:
                frame = pd.read_sql(
                    statement, connection, params={"start": window.start, "end": window.end}
                )
        except (SQLAlchemyError, pd.errors.DatabaseError) as error:
            raise SourceError(
                f"{self.location}: query for window {window} failed: {_database_problem(error)}"
            ) from None
        return SourceData(frame=frame, version=frame_version(frame), location=self.location)

    def close(self) -> None:
        """Close the pooled database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _connected(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url, connect_args=_utc_session(self.url))
        return self._engine


# The kinds a [source] table can be; a new kind is one class above and one member here.
SourceSettings = Annotated[
    FileSource | SqlSource, Field(discriminator="kind"), default_kind("files")
]


def _template_fields(path: str) -> set[str]:
    """The placeholder names in a path template: {'start', 'end'} for '{start:%Y}-{end}'."""
    try:
        parts = list(string.Formatter().parse(path))
    except ValueError as error:
        raise ValueError(f"not a valid path template: {error}, got {path!r}") from None
    return {name for _, name, _, _ in parts if name is not None}


def _utc_session(url: str) -> dict[str, Any]:
    """Connection arguments that make a PostgreSQL session's time zone UTC."""
    if make_url(url).get_backend_name() == "postgresql":
        return {"options": "-c timezone=UTC"}
    return {}


def _rows_in_window(file: Path, time_column: str, window: Window) -> pd.DataFrame:
    """The rows of `file` whose `time_column` lies in the window."""
    if file.suffix.lower() in PARQUET_SUFFIXES:
        schema = _parquet_schema(file)
        _require_column(file, time_column, schema.names)
        column_type = schema.field(time_column).type
        if pa.types.is_timestamp(column_type):
            _refuse_null_times(file, time_column, _parquet_null_count(file, time_column))
            return _read_parquet_between(file, time_column, column_type, window)
    frame = read_table(file, allow_empty=True)
    _require_column(file, time_column, list(frame.columns))
    times = _parse_times(file, frame[time_column])
    inside = (times >= window.start) & (times < window.end)
    return frame.loc[inside.to_numpy()].reset_index(drop=True)


def _parquet_schema(file: Path) -> pa.Schema:
    """The Arrow schema of a Parquet file."""
    try:
        return pq.read_schema(file)
    except (pa.ArrowException, OSError) as error:
        raise UnusableInput(
            f"{file} is not a readable Parquet file: {_first_line(error)}"
        ) from None


def _read_parquet_between(
    file: Path, time_column: str, column_type: pa.TimestampType, window: Window
) -> pd.DataFrame:
    """Only the rows in the window, filtered by pyarrow while reading."""
    start, end = window.start, window.end
    if column_type.tz is None:  # a naive column holds UTC times; compare naive to naive
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    filters = [(time_column, ">=", start), (time_column, "<", end)]
    try:
        return pd.read_parquet(file, engine="pyarrow", filters=filters)
    except (pa.ArrowException, OSError) as error:
        raise UnusableInput(f"{file} could not be read as Parquet: {_first_line(error)}") from None


def _parquet_null_count(file: Path, column: str) -> int:
    """Nulls in a column, from the row-group statistics when every group has them."""
    metadata = pq.ParquetFile(file).metadata
    paths = [metadata.schema.column(index).path for index in range(metadata.num_columns)]
    position = paths.index(column)
    total = 0
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(position).statistics
        if statistics is None or not statistics.has_null_count:
            return pq.read_table(file, columns=[column]).column(0).null_count
        total += statistics.null_count
    return total


def _require_column(file: Path, column: str, columns: list[Any]) -> None:
    """Raise unless `file` has the time column."""
    if column not in columns:
        shown = ", ".join(repr(str(name)) for name in columns)
        raise UnusableInput(f"{file} has no time column {column!r}; its columns are {shown}")


def _parse_times(file: Path, values: pd.Series) -> pd.Series:
    """The column as UTC times (naive values are UTC); raise on empty or non-ISO values."""
    _refuse_null_times(file, str(values.name), int(values.isna().sum()))
    times = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    unparsed = times.isna().to_numpy()
    if unparsed.any():
        row = int(unparsed.argmax())
        raise UnusableInput(
            f"{file}: column {values.name!r} has {int(unparsed.sum())} value(s) that are not "
            f"ISO 8601 times, e.g. {values.iloc[row]!r} at row {row} (0-based)"
        )
    return times


def _refuse_null_times(file: Path, column: str, nulls: int) -> None:
    """Raise when rows have no time: they belong to no window and would be lost."""
    if nulls:
        raise UnusableInput(
            f"{file}: column {column!r} is empty in {nulls} row(s); every row needs a time "
            "to be placed in a window"
        )


def _database_problem(error: Exception) -> str:
    """The database's own message, without the statement dumps pandas and SQLAlchemy add."""
    if isinstance(error, pd.errors.DatabaseError) and error.__cause__ is not None:
        error = error.__cause__  # pandas wraps SQLAlchemy's error
    return _first_line(getattr(error, "orig", None) or error)


def _first_line(error: BaseException) -> str:
    """The first line of an error's message."""
    message = str(error).strip()
    return message.splitlines()[0] if message else type(error).__name__
