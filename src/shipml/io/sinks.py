"""Where a batch window's output goes: exactly one output per (pipeline, window).

Writing a window again replaces its output; a crash mid-write leaves the previous output
(or none), never a partial one.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Literal, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, PrivateAttr, field_validator
from sqlalchemy import (
    Connection,
    Engine,
    Index,
    MetaData,
    Table,
    create_engine,
    delete,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from shipml._settings import (
    DatabaseUrl,
    Section,
    absolute,
    check_safe_name,
    default_kind,
    sqlite_absolute,
)
from shipml.errors import SinkError
from shipml.windows import Window

log = logging.getLogger(__name__)

PIPELINE_COLUMN = "pipeline"
WINDOW_COLUMN = "window_start"
RUN_COLUMN = "run_id"
_TEMPORARY_SUFFIX = ".tmp"
_NEW_FILE_MODE = 0o666  # what open() asks for; the umask takes away from it
ORPHAN_AGE_SECONDS = 60.0  # a temporary file untouched this long, and unlocked, is an orphan


class Sink(Protocol):
    """Anything that stores the output rows of a batch window, one output per window."""

    def write(self, frame: pd.DataFrame, *, pipeline: str, window: Window, run_id: str) -> str:
        """Store `frame` as the output of (pipeline, window), replacing any earlier one."""
        ...

    def exists(self, pipeline: str, window: Window) -> bool:
        """Whether (pipeline, window) has an output."""
        ...


class ParquetSink(Section):
    """One Parquet file per window: `<directory>/<pipeline>/<window.key>.parquet`.

    Rows carry a `run_id` column; the run id and the window bounds are also kept in the
    file's schema metadata (`shipml.run_id`, `shipml.window_start`, `shipml.window_end`).
    """

    kind: Literal["parquet"] = "parquet"
    path: Path = Path("outputs")

    def resolved(self, project_dir: Path) -> ParquetSink:
        """A copy with the directory made absolute against `project_dir`."""
        return self.model_copy(update={"path": absolute(project_dir, self.path)})

    def location(self, pipeline: str, window: Window) -> Path:
        """The file that holds the output of (pipeline, window)."""
        _require_safe_name(pipeline)
        return self.path / pipeline / f"{window.key}.parquet"

    def write(self, frame: pd.DataFrame, *, pipeline: str, window: Window, run_id: str) -> str:
        """Write the window's file atomically: a temporary file, fsync, then rename over.

        The file gets the mode the process umask gives a new file (0644 under umask 022).
        Temporary files that a killed writer left in the pipeline's directory are removed.
        """
        from shipml.io.parts import replace_output  # it imports this module

        target = self.location(pipeline, window)
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(target.parent)
        rows = frame.reset_index(drop=True).assign(**{RUN_COLUMN: run_id})
        table = _with_lineage(pa.Table.from_pandas(rows, preserve_index=False), window, run_id)
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.", suffix=_TEMPORARY_SUFFIX
        )
        try:
            # Held until the file is renamed: a cleaner never takes a file being written.
            fcntl.flock(handle, fcntl.LOCK_EX)
            os.fchmod(handle, _NEW_FILE_MODE & ~_umask())
            with os.fdopen(handle, "wb") as file:
                pq.write_table(table, file)
                file.flush()
                os.fsync(file.fileno())
                replace_output(Path(temporary), target)  # also over an output written in parts
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)
        return str(target)

    def exists(self, pipeline: str, window: Window) -> bool:
        """Whether the window's file (or directory of parts, see `shipml.io.parts`) is there."""
        return self.location(pipeline, window).exists()


class SqlSink(Section):
    """A database table; each row carries its pipeline, window start and run id.

    A write deletes the window's rows and inserts the new ones in one transaction, so a
    window's rows appear exactly once. The table (and an index on pipeline and window start)
    is created by the first write that has rows. An empty frame leaves no rows, so `exists`
    is then False.
    """

    kind: Literal["sql"] = "sql"
    url: DatabaseUrl
    table: str = "predictions"

    _engine: Engine | None = PrivateAttr(default=None)

    @field_validator("table")
    @classmethod
    def _table_is_identifier(cls, value: str) -> str:
        if not value.isidentifier():
            raise ValueError(f"expected a table name like 'predictions', got {value!r}")
        return value

    @property
    def location(self) -> str:
        """The database URL (password masked) and the table."""
        return f"{make_url(self.url).render_as_string(hide_password=True)} table {self.table}"

    def resolved(self, project_dir: Path) -> SqlSink:
        """A copy with a relative SQLite file made absolute against `project_dir`."""
        return self.model_copy(update={"url": sqlite_absolute(project_dir, self.url)})

    def write(self, frame: pd.DataFrame, *, pipeline: str, window: Window, run_id: str) -> str:
        """Replace the window's rows with `frame`'s, in one transaction."""
        rows = _with_window_columns(frame, pipeline, window, run_id)
        try:
            with self._connected().begin() as connection:
                self._lock_window(connection, pipeline, window)
                if inspect(connection).has_table(self.table):
                    self._replace(connection, rows, pipeline, window)
                elif not rows.empty:  # an empty frame's column types are guesses: wait for rows
                    self._create(connection, rows)
        except (SQLAlchemyError, pd.errors.DatabaseError) as error:
            raise SinkError(
                f"{self.location}: writing window {window} failed: {_first_line(error)}"
            ) from None
        return self.location

    def exists(self, pipeline: str, window: Window) -> bool:
        """Whether the table holds rows of (pipeline, window)."""
        with self._connected().connect() as connection:
            if not inspect(connection).has_table(self.table):
                return False
            table = Table(self.table, MetaData(), autoload_with=connection)
            query = select(func.count()).where(*_window_rows(table, pipeline, window))
            return bool(connection.execute(query).scalar_one())

    def close(self) -> None:
        """Close the pooled database connections."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _connected(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url)
        return self._engine

    def _replace(
        self, connection: Connection, rows: pd.DataFrame, pipeline: str, window: Window
    ) -> None:
        """Delete the window's rows, then append the new ones."""
        table = Table(self.table, MetaData(), autoload_with=connection)
        missing = [name for name in rows.columns if name not in table.c]
        if missing:
            raise SinkError(
                f"{self.location} has no column(s) {missing} for this output; its columns are "
                f"{[column.name for column in table.c]}: migrate or drop the table"
            )
        connection.execute(delete(table).where(*_window_rows(table, pipeline, window)))
        rows.to_sql(self.table, connection, if_exists="append", index=False)

    def _create(self, connection: Connection, rows: pd.DataFrame) -> None:
        """Create the table from the frame's columns, with an index to find a window's rows."""
        rows.to_sql(self.table, connection, index=False)
        table = Table(self.table, MetaData(), autoload_with=connection)
        name = f"ix_{self.table}_{WINDOW_COLUMN}"
        Index(name, table.c[PIPELINE_COLUMN], table.c[WINDOW_COLUMN]).create(connection)

    def _lock_window(self, connection: Connection, pipeline: str, window: Window) -> None:
        """On PostgreSQL, serialise writers of the same window (SQLite has one writer anyway)."""
        if connection.dialect.name != "postgresql":
            return
        name = f"{self.table}/{pipeline}/{window.key}".encode()
        key = int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)
        connection.execute(select(func.pg_advisory_xact_lock(key)))


# The kinds an [output] table can be; a new kind is one class above and one member here.
SinkSettings = Annotated[
    ParquetSink | SqlSink, Field(discriminator="kind"), default_kind("parquet")
]


def _require_safe_name(pipeline: str) -> None:
    """Raise unless the pipeline name can be a directory name."""
    try:
        check_safe_name(pipeline)
    except ValueError:
        raise SinkError(
            f"pipeline name {pipeline!r} cannot name an output directory; "
            "use letters, digits, '_', '-' and '.'"
        ) from None


def _remove_orphans(directory: Path) -> None:
    """Remove temporary output files whose writer died (no lock held, untouched for a while)."""
    now = time.time()
    for entry in os.scandir(directory):
        if not (entry.name.startswith(".") and entry.name.endswith(_TEMPORARY_SUFFIX)):
            continue
        try:
            if now - entry.stat().st_mtime < ORPHAN_AGE_SECONDS:
                continue
            descriptor = os.open(entry.path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # its writer renamed or removed it meanwhile
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a writer still holds it
        else:
            Path(entry.path).unlink(missing_ok=True)
            log.warning("removed %s, left by an output writer that died", entry.path)
        finally:
            os.close(descriptor)


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    current = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(current)
    return current


def _with_lineage(table: pa.Table, window: Window, run_id: str) -> pa.Table:
    """`table` with the run id and window bounds added to its schema metadata."""
    metadata = dict(table.schema.metadata or {})
    metadata[b"shipml.run_id"] = run_id.encode()
    metadata[b"shipml.window_start"] = window.start.isoformat().encode()
    metadata[b"shipml.window_end"] = window.end.isoformat().encode()
    return table.replace_schema_metadata(metadata)


def _fsync_directory(directory: Path) -> None:
    """Make a rename inside `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _with_window_columns(
    frame: pd.DataFrame, pipeline: str, window: Window, run_id: str
) -> pd.DataFrame:
    """The frame's rows behind three columns naming their pipeline, window and run."""
    taken = [name for name in (PIPELINE_COLUMN, WINDOW_COLUMN, RUN_COLUMN) if name in frame]
    if taken:
        raise SinkError(
            f"the output already has column(s) {taken}, which the SQL output adds itself; "
            "rename them in the pipeline"
        )
    rows = frame.reset_index(drop=True)
    # Typed explicitly so that a table created from an empty first window gets the right types.
    identity: dict[str, pd.Series] = {
        RUN_COLUMN: pd.Series(run_id, index=rows.index, dtype="str"),
        WINDOW_COLUMN: pd.Series(window.start, index=rows.index, dtype="datetime64[us, UTC]"),
        PIPELINE_COLUMN: pd.Series(pipeline, index=rows.index, dtype="str"),
    }
    for name, column in identity.items():
        rows.insert(0, name, column)
    return rows


def _window_rows(
    table: Table, pipeline: str, window: Window
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The conditions that select the rows of (pipeline, window)."""
    return (table.c[PIPELINE_COLUMN] == pipeline, table.c[WINDOW_COLUMN] == window.start)


def _first_line(error: BaseException) -> str:
    """The database's own message, without the statement dumps pandas and SQLAlchemy add."""
    if isinstance(error, pd.errors.DatabaseError) and error.__cause__ is not None:
        error = error.__cause__  # pandas wraps SQLAlchemy's error
    message = str(getattr(error, "orig", None) or error).strip()
    return message.splitlines()[0] if message else type(error).__name__
