"""Where a batch window's input comes from: files (one per window, or one filtered) or SQL.

Every read returns the rows with a data version for lineage: the DVC md5 when DVC tracks the
file (and the file still matches it), else a sha256 of the file's bytes; for SQL, a sha256 of
the rows read.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
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
from shipml.contracts import parse_datetimes
from shipml.contracts.reading import PARQUET_SUFFIXES, read_table
from shipml.errors import (
    EmptyInput,
    IncompleteInput,
    MissingInput,
    SourceError,
    UnusableInput,
    first_line,
)
from shipml.fingerprints import frame_version
from shipml.io._templates import FIELDS, PathTemplate, check_time_format, placeholder_fields
from shipml.versioning.lineage import file_version
from shipml.windows import Cadence, Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceData:
    """The rows of one window, the version of the data they came from, and where from."""

    frame: pd.DataFrame
    version: str
    location: str
    rows_outside: int = 0  # rows the files held outside the window (cut by a time column)


class Source(Protocol):
    """Anything that can read the input rows of a batch window."""

    def read(self, window: Window) -> SourceData:
        """The rows of `window`; raise `MissingInput` when they are not available yet."""
        ...


class FileSource(Section):
    """[source] kind = "files": one CSV/Parquet file per window, or one file cut by time.

    A template holds `{start}`/`{end}` with an optional strftime format, e.g.
    `data/{start:%Y-%m-%dT%H%M}.csv`; a window reads every file whose name's time lies in it
    (with `{end}` in the template, only its own file). With `time_column`, only rows whose
    time lies in [start, end) are kept (naive times are UTC; text is read as ISO 8601 or as
    `time_format`), the others are counted and never written; Parquet files are filtered while
    reading. A window without rows fails unless `allow_empty`.
    """

    kind: Literal["files"] = "files"
    path: str
    time_column: str | None = Field(default=None, validate_default=True)
    time_format: str | None = None
    allow_empty: bool = False

    @field_validator("path", mode="before")
    @classmethod
    def _data_file_template(cls, value: Any) -> Any:
        if not isinstance(value, str | Path):
            return value  # Pydantic reports the wrong type
        value = str(check_data_file(value))
        PathTemplate.parse(value)
        return value

    @field_validator("time_column")
    @classmethod
    def _time_column_for_single_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        path = info.data.get("path")
        if path is not None and value is None and not placeholder_fields(path):
            raise ValueError(
                "required when source.path is one file (no {start}/{end} placeholders): "
                "give a time_column to cut it into windows"
            )
        return value

    @field_validator("time_format")
    @classmethod
    def _time_format_for_a_time_column(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("time_column") is None and "path" in info.data:
            raise ValueError("only used with a time_column (the column whose times it reads)")
        return check_time_format(value)

    @property
    def template(self) -> PathTemplate | None:
        """The path's template (None when the path is one file)."""
        return PathTemplate.parse(self.path)

    @property
    def is_template(self) -> bool:
        """Whether each window has its own file(s)."""
        return self.template is not None

    def resolved(self, project_dir: Path) -> FileSource:
        """A copy with the path made absolute against `project_dir`."""
        return self.model_copy(update={"path": str(absolute(project_dir, self.path))})

    def check_schedule(self, cadence: Cadence) -> None:
        """Raise ValueError unless every window of `cadence` reads exactly its own rows."""
        template = self.template
        if template is not None:
            template.check_schedule(cadence, cut_by_time=self.time_column is not None)
        elif Path(self.path).is_dir():
            raise ValueError(f"{self.path} is a directory, not a data file")

    def location(self, window: Window) -> Path:
        """The (first) file holding `window`'s rows."""
        template = self.template
        if template is None:
            return Path(self.path)
        return Path(template.names_in(window)[0][1])

    def read(self, window: Window) -> SourceData:
        """The rows of `window`; `MissingInput` when its file(s) are not there (yet)."""
        files = self._files(window)
        parts = [self._read_one(file, window) for file in files]
        frame = _concatenated(files, [part for part, _ in parts])
        outside = sum(count for _, count in parts)
        where = str(files[0]) if len(files) == 1 else f"{files[0]} and {len(files) - 1} more"
        if outside:
            _report_outside(where, window, len(frame), outside, self._files_fit_windows(window))
        if frame.empty and not self.allow_empty:
            raise EmptyInput(where, window, _emptiness(where, outside))
        return SourceData(
            frame=frame,
            version=_files_version(files),
            location=where,
            rows_outside=outside,
        )

    def _files(self, window: Window) -> list[Path]:
        """The files `window` reads, in time order; raise when one of them is not there."""
        template = self.template
        if template is None:
            _require_file(Path(self.path), window)
            return [Path(self.path)]
        named = template.names_in(window)
        first_moment, first = named[0]
        _require_file(Path(first), window)
        listing = _Listing()  # a window may look for thousands of names: list, do not stat
        present = [(moment, name) for moment, name in named[1:] if listing.holds(name)]
        if present:
            offsets = [int((moment - first_moment).total_seconds()) for moment, _ in named]
            spacing = math.gcd(
                int((window.end - first_moment).total_seconds()),
                *(int((moment - first_moment).total_seconds()) for moment, _ in present),
            )
            expected = [
                name
                for (_, name), offset in zip(named, offsets, strict=True)
                if offset % spacing == 0
            ]
            missing = [name for name in expected[1:] if not listing.holds(name)]
            if missing:
                there = len(expected) - len(missing)
                raise IncompleteInput(missing[0], window, there, len(expected))
        return [Path(first), *(Path(name) for _, name in present)]

    def _read_one(self, file: Path, window: Window) -> tuple[pd.DataFrame, int]:
        """The rows of `file` in the window, and how many rows it holds outside it."""
        if self.time_column is None:
            return read_table(file, allow_empty=True), 0
        return _rows_in_window(file, self.time_column, self.time_format, window)

    def _files_fit_windows(self, window: Window) -> bool:
        """Whether the files are named for windows like this one (rows outside are a surprise)."""
        template = self.template
        return template is not None and template.step <= window.end - window.start


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
        if parameters != set(FIELDS):
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


class _Listing:
    """Which files are there, from one listing per directory."""

    def __init__(self) -> None:
        self._entries: dict[str, set[str]] = {}

    def holds(self, name: str) -> bool:
        """Whether the file `name` is there; a directory in its place is refused."""
        directory, base = os.path.split(name)
        entries = self._entries.get(directory)
        if entries is None:
            try:
                entries = set(os.listdir(directory or "."))
            except (FileNotFoundError, NotADirectoryError):
                entries = set()
            self._entries[directory] = entries
        return base in entries and _exists(Path(name))


def _exists(file: Path) -> bool:
    """Whether a data file is there; a directory in its place is refused."""
    if file.is_dir():
        raise UnusableInput(f"{file} is a directory, not a data file")
    return file.is_file()


def _require_file(file: Path, window: Window) -> None:
    """Raise `MissingInput` unless `file` is there."""
    if not _exists(file):
        raise MissingInput(str(file), window)


def _concatenated(files: list[Path], frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One frame of the files' rows, in order; files with other columns are refused."""
    if len(frames) == 1:
        return frames[0]
    columns = list(frames[0].columns)
    for file, frame in zip(files[1:], frames[1:], strict=True):
        if set(frame.columns) != set(columns):
            raise UnusableInput(
                f"{file} has columns {list(frame.columns)}, but {files[0]} of the same window "
                f"has {columns}; a window's files must have the same columns"
            )
    return pd.concat([frame[columns] for frame in frames], ignore_index=True)


def _files_version(files: list[Path]) -> str:
    """The data version of one file, or a sha256 of the versions of several."""
    versions = [file_version(file) for file in files]
    if len(versions) == 1:
        return versions[0]
    return "sha256:" + hashlib.sha256("\n".join(versions).encode()).hexdigest()


def _report_outside(where: str, window: Window, kept: int, outside: int, surprising: bool) -> None:
    """Log the rows of a window's files that lie outside it (they are never written)."""
    log.log(
        logging.WARNING if surprising else logging.INFO,
        "window %s: kept %d row(s) of %s; %d row(s) outside the window were left out",
        window,
        kept,
        where,
        outside,
    )


def _emptiness(where: str, outside: int) -> str:
    """Why a window has no rows."""
    if outside:
        return f"none of the {outside} row(s) of {where} lie in the window"
    return f"{where} has a header but no rows"


def _utc_session(url: str) -> dict[str, Any]:
    """Connection arguments that make a PostgreSQL session's time zone UTC."""
    if make_url(url).get_backend_name() == "postgresql":
        return {"options": "-c timezone=UTC"}
    return {}


def _rows_in_window(
    file: Path, time_column: str, time_format: str | None, window: Window
) -> tuple[pd.DataFrame, int]:
    """The rows of `file` whose `time_column` lies in the window, and how many do not."""
    if file.suffix.lower() in PARQUET_SUFFIXES:
        schema = _parquet_schema(file)
        _require_column(file, time_column, schema.names)
        column_type = schema.field(time_column).type
        if pa.types.is_timestamp(column_type):
            _refuse_null_times(file, time_column, _parquet_null_count(file, time_column))
            kept = _read_parquet_between(file, time_column, column_type, window)
            return kept, pq.ParquetFile(file).metadata.num_rows - len(kept)
    frame = read_table(file, allow_empty=True)
    _require_column(file, time_column, list(frame.columns))
    times = _parse_times(file, frame[time_column], time_format)
    inside = ((times >= window.start) & (times < window.end)).to_numpy()
    return frame.loc[inside].reset_index(drop=True), int((~inside).sum())


def _parquet_schema(file: Path) -> pa.Schema:
    """The Arrow schema of a Parquet file."""
    try:
        return pq.read_schema(file)
    except (pa.ArrowException, OSError) as error:
        raise UnusableInput(f"{file} is not a readable Parquet file: {first_line(error)}") from None


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
        raise UnusableInput(f"{file} could not be read as Parquet: {first_line(error)}") from None


def _parquet_null_count(file: Path, column: str) -> int:
    """Nulls in a column, from the row-group statistics when every group has them."""
    metadata = pq.ParquetFile(file).metadata
    paths = [metadata.schema.column(index).path for index in range(metadata.num_columns)]
    position = paths.index(column)
    total = 0
    for group in range(metadata.num_row_groups):
        statistics = metadata.row_group(group).column(position).statistics
        if statistics is None or not statistics.has_null_count:
            return int(pq.read_table(file, columns=[column]).column(0).null_count)
        total += statistics.null_count
    return total


def _require_column(file: Path, column: str, columns: list[Any]) -> None:
    """Raise unless `file` has the time column."""
    if column not in columns:
        shown = ", ".join(repr(str(name)) for name in columns)
        raise UnusableInput(f"{file} has no time column {column!r}; its columns are {shown}")


def _parse_times(file: Path, values: pd.Series, time_format: str | None) -> pd.Series:
    """The column as UTC times (naive values are UTC); raise on empty or unreadable values."""
    _refuse_null_times(file, str(values.name), int(values.isna().sum()))
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        times = pd.to_datetime(values, utc=True)
    elif time_format:  # the contracts' parser: strptime's verdicts, vectorized
        times = parse_datetimes(values.astype("str"), time_format, utc=True)
    else:
        times = pd.to_datetime(values.astype("str"), utc=True, format="ISO8601", errors="coerce")
    unparsed = times.isna().to_numpy()
    if unparsed.any():
        row = int(unparsed.argmax())
        expected = (
            f"times written {time_format!r} (source.time_format)"
            if time_format
            else "ISO 8601 times (set source.time_format for another format, e.g. '%d/%m/%Y %H:%M')"
        )
        raise UnusableInput(
            f"{file}: column {values.name!r} has {int(unparsed.sum())} value(s) that are not "
            f"{expected}, e.g. {values.iloc[row]!r} at row {row} (0-based)"
        )
    return times


def _refuse_null_times(file: Path, column: str, nulls: int) -> None:
    """Raise when rows have no time: they belong to no window and would be lost."""
    if nulls:
        raise UnusableInput(
            f"{file}: column {column!r} is empty in {nulls} row(s); every row needs a time "
            "to be placed in a window"
        )


def _database_problem(error: BaseException) -> str:
    """The database's own message, without the statement dumps pandas and SQLAlchemy add."""
    if isinstance(error, pd.errors.DatabaseError) and error.__cause__ is not None:
        error = error.__cause__  # pandas wraps SQLAlchemy's error
    return first_line(getattr(error, "orig", None) or error)
