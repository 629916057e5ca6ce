"""Read one partition of a window (on a Dask worker), as a whole read would read those rows."""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import DateTime, Engine, bindparam, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from shipml.errors import SourceError
from shipml.fingerprints import frame_version
from shipml.io._partition_types import (
    BadTimes,
    ColumnRead,
    CsvPartition,
    ParquetPartition,
    Partition,
    PartitionRead,
    SqlPartition,
    TimeFilter,
)
from shipml.io.sources import _database_problem, _utc_session

_ENGINES: dict[str, Engine] = {}  # one connection pool per database URL in a worker process


def read_partition(partition: Partition, casts: Mapping[str, str] | None = None) -> PartitionRead:
    """Read one partition; what a whole read would refuse is reported, not raised.

    `casts` give columns the types a whole read gives them (see `review_reads`).
    """
    casts = casts or {}
    quotes, version = 0, None
    if isinstance(partition, ParquetPartition):
        raw = _read_parquet_groups(partition)
    elif isinstance(partition, CsvPartition):
        try:
            raw, quotes = _read_csv_block(partition, casts)
        except (UnicodeDecodeError, pd.errors.ParserError) as error:
            return PartitionRead(None, 0, {}, unreadable=f"{type(error).__name__}: {error}")
    else:
        try:
            raw = _read_sql_range(partition)
        except SourceError as error:
            return PartitionRead(None, 0, {}, error=error)
        version = frame_version(raw)
    raw = _cast(raw, casts)
    columns = {str(name): _column_read(raw[name]) for name in raw.columns}
    if isinstance(partition, SqlPartition) or partition.times is None or partition.times.parsed:
        return PartitionRead(raw, len(raw), columns, len(raw), quotes, version=version)
    kept, bad = _rows_in_window(raw, partition.times, partition.file)
    return PartitionRead(kept, len(raw), columns, len(kept), quotes, bad, version)


def bound(statement: Any) -> Any:
    """A `:start`/`:end` statement with both parameters typed as UTC times."""
    return statement.bindparams(
        bindparam("start", type_=DateTime(timezone=True)),
        bindparam("end", type_=DateTime(timezone=True)),
    )


def _read_parquet_groups(partition: ParquetPartition) -> pd.DataFrame:
    table = pq.ParquetFile(partition.file).read_row_groups(list(partition.row_groups))
    times = partition.times
    if times is not None and times.parsed:
        column = pc.field(times.column)
        table = table.filter((column >= times.start) & (column < times.end))
    frame: pd.DataFrame = table.to_pandas()  # as pandas.read_parquet converts it
    return frame


def _read_csv_block(partition: CsvPartition, casts: Mapping[str, str]) -> tuple[pd.DataFrame, int]:
    with open(partition.file, "rb") as handle:
        handle.seek(partition.start)
        data = handle.read(partition.stop - partition.start)
    options: dict[str, Any] = {
        "names": list(partition.names),
        "header": None,
        "sep": partition.delimiter,
        "dtype": {name: "str" for name, dtype in casts.items() if dtype == "str"} or None,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.DtypeWarning)
        frame = pd.read_csv(io.BytesIO(data), **options)
    if any(issubclass(w.category, pd.errors.DtypeWarning) for w in caught):
        frame = pd.read_csv(io.BytesIO(data), low_memory=False, **options)  # as a whole read
    return frame, data.count(b'"')


def _read_sql_range(partition: SqlPartition) -> pd.DataFrame:
    if partition.url not in _ENGINES:
        _ENGINES[partition.url] = create_engine(
            partition.url, connect_args=_utc_session(partition.url)
        )
    try:
        with _ENGINES[partition.url].connect() as connection:
            return pd.read_sql(
                bound(text(partition.query)),
                connection,
                params={"start": partition.start, "end": partition.end},
            )
    except (SQLAlchemyError, pd.errors.DatabaseError) as error:
        raise SourceError(
            f"{partition.location}: query for window {partition.window} failed: "
            f"{_database_problem(error)}"
        ) from None


def _cast(frame: pd.DataFrame, casts: Mapping[str, str]) -> pd.DataFrame:
    changed = {name: dtype for name, dtype in casts.items() if str(frame[name].dtype) != dtype}
    return frame.astype(changed) if changed else frame


def _column_read(column: pd.Series) -> ColumnRead:
    empty = bool(len(column)) and bool(column.isna().all())
    holds = None
    if column.dtype == object and not empty:
        holds = pd.api.types.infer_dtype(column, skipna=True)
    return ColumnRead(str(column.dtype), empty, holds)


def _rows_in_window(
    frame: pd.DataFrame, times: TimeFilter, file: str
) -> tuple[pd.DataFrame, BadTimes | None]:
    """The rows in the window; or none, and what is wrong with the times (as a whole read)."""
    values = frame[times.column]
    nulls = int(values.isna().sum())
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = pd.to_datetime(values, utc=True)
    else:
        parsed = pd.to_datetime(
            values.astype("str"), utc=True, format=times.time_format or "ISO8601", errors="coerce"
        )
    unparsed = (parsed.isna() & values.notna()).to_numpy()
    if nulls or unparsed.any():
        first = int(unparsed.argmax()) if unparsed.any() else None
        value = values.iloc[first] if first is not None else None
        bad = BadTimes(file, times.column, nulls, int(unparsed.sum()), first, value)
        return frame.iloc[:0], bad
    inside = ((parsed >= times.start) & (parsed < times.end)).to_numpy()
    return frame.loc[inside].reset_index(drop=True), None
