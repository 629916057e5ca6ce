"""A window's rows read in partitions, each on its own (on a Dask worker), never all at once.

`plan_partitions(source, window)` looks at metadata and a few bytes only, in this process:

- Parquet: whole row groups, consecutive groups put together up to `rows` rows a partition.
  With a time column of timestamp type, row groups whose statistics show no row inside the
  window are skipped, and each partition keeps the rows in [start, end) as it reads.
- CSV/TSV: byte ranges of about `rows` rows (estimated from the first lines), cut at line ends.
- SQL: the window cut into consecutive time ranges, the source's query run for each. The
  query must select the rows of [start, end) exactly (`ts >= :start AND ts < :end`) and order
  them by time, so the ranges add up to the window in a whole read's order. A count query
  decides how many ranges, and checks that they added up.

`read_partition(partition)` reads one partition (on a worker) and says what it found
(`PartitionRead`); `review_reads` (in this process) checks that the partitions agree with
what a whole read would have given: the same column types (a CSV block without a null in
an int column reads as int64, the whole file as float64: those partitions are read again with
the whole read's types), quotes balanced at every cut, the same refusals (times missing or
not ISO 8601, with the row counted from the file's start). When a cut cannot be trusted, the
review asks for a whole read. A source kind with no partitioned reading gives no plan.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import DateTime, Engine, bindparam, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from shipml.contracts import PARQUET_SUFFIXES
from shipml.errors import MissingInput, ShipmlError, SourceError, UnusableInput
from shipml.fingerprints import frame_version
from shipml.io.sources import (
    FileSource,
    Source,
    SqlSource,
    _database_problem,
    _parquet_null_count,
    _parquet_schema,
    _refuse_null_times,
    _require_column,
    _utc_session,
)
from shipml.versioning.lineage import file_version
from shipml.windows import Window

DEFAULT_ROWS = 500_000  # rows a partition holds about (a few hundred MB through a flow)
_DELIMITERS = {".csv": ",", ".tsv": "\t"}
_SAMPLE_BYTES = 1024 * 1024  # read to estimate the bytes of a CSV row
_LINE_SEARCH_BYTES = 64 * 1024


@dataclass(frozen=True)
class TimeFilter:
    """Keep the rows whose `column` lies in [start, end) (naive times are UTC)."""

    column: str
    start: datetime
    end: datetime
    parsed: bool  # True: the column is a timestamp already; False: parse it from text


@dataclass(frozen=True)
class ParquetPartition:
    """Consecutive row groups of a Parquet file."""

    file: str
    row_groups: tuple[int, ...]
    times: TimeFilter | None = None


@dataclass(frozen=True)
class CsvPartition:
    """The lines of a CSV/TSV file between two byte offsets (after the header)."""

    file: str
    start: int
    stop: int
    names: tuple[str, ...]
    delimiter: str
    times: TimeFilter | None = None


@dataclass(frozen=True)
class SqlPartition:
    """The source's query run for [start, end), a time range inside the window."""

    url: str
    query: str
    start: datetime
    end: datetime
    location: str
    window: str  # the whole window, as its errors name it


Partition = ParquetPartition | CsvPartition | SqlPartition


@dataclass(frozen=True)
class PartitionPlan:
    """How a window's rows are read in partitions, and what a whole read would report."""

    partitions: tuple[Partition, ...]
    location: str
    version: str | None  # None: known after the reads (SQL)
    rows: int | None = None  # the rows of the window when known up front (SQL's count)
    quotes_before: int = 0  # quote characters in a CSV's header


@dataclass(frozen=True)
class BadTimes:
    """Rows of a partition whose time is missing or not ISO 8601."""

    column: str
    nulls: int
    unparsed: int
    first_row: int | None  # within the partition's rows as read
    first_value: Any


@dataclass(frozen=True)
class ColumnRead:
    """A column's type as a partition read it, and whether it held only nulls."""

    dtype: str
    empty: bool
    holds: str | None = None  # for object columns: what pandas infers they hold


@dataclass
class PartitionRead:
    """A partition's rows and what its read found (everything but `frame` is small)."""

    frame: pd.DataFrame | None  # None when the read found a problem
    raw_rows: int  # rows read before the time filter
    columns: dict[str, ColumnRead]
    quotes: int = 0
    bad_times: BadTimes | None = None
    version: str | None = None
    error: ShipmlError | None = None  # a refusal to raise as it is (a failed query)
    unreadable: str | None = None  # why a whole read must say what is wrong instead

    def facts(self) -> PartitionRead:
        """This read without its rows: what travels back to the client."""
        return dataclasses.replace(self, frame=None)


@dataclass(frozen=True)
class Review:
    """What to do after the reads: read some partitions again with casts, or all of it whole."""

    casts: Mapping[int, Mapping[str, str]]  # partition -> column -> the whole read's dtype
    whole: str | None = None  # why the window must be read whole instead


def plan_partitions(
    source: Source, window: Window, *, rows: int = DEFAULT_ROWS, count: int | None = None
) -> PartitionPlan | None:
    """Partitions of about `rows` rows (or exactly `count` where the source allows it)."""
    if isinstance(source, FileSource):
        return _plan_file(source, window, rows, count)
    if isinstance(source, SqlSource):
        return _plan_sql(source, window, rows, count)
    return None


def read_partition(partition: Partition, casts: Mapping[str, str] | None = None) -> PartitionRead:
    """Read one partition; raise nothing for the problems a whole read would refuse."""
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
    times = partition.times if not isinstance(partition, SqlPartition) else None
    if times is None or times.parsed:
        return PartitionRead(raw, len(raw), columns, quotes, version=version)
    kept, bad = _keep_parsed_times(raw, times)
    return PartitionRead(kept, len(raw), columns, quotes, bad, version)


def review_reads(plan: PartitionPlan, reads: Sequence[PartitionRead]) -> Review:
    """Raise what a whole read would have refused; say which partitions to read again."""
    for position, read in enumerate(reads):
        if read.error is not None:
            raise read.error
        if read.unreadable is not None:
            return Review({}, f"partition {position} could not be read alone: {read.unreadable}")
    _raise_bad_times(plan, reads)
    if plan.rows is not None and sum(r.raw_rows for r in reads) != plan.rows:
        raise SourceError(
            f"{plan.location}: the query's rows for parts of the window add up to "
            f"{sum(r.raw_rows for r in reads):,}, not the window's {plan.rows:,}; select "
            "exactly [start, end) (e.g. ts >= :start AND ts < :end), or the rows changed "
            "while they were read"
        )
    quotes = plan.quotes_before
    for position, read in enumerate(reads[:-1]):
        quotes += read.quotes
        if quotes % 2:
            return Review({}, f"a quoted value spans the cut after partition {position}")
    return _review_types(plan, reads)


def data_version(plan: PartitionPlan, reads: Sequence[PartitionRead]) -> str:
    """The version of the data read: the file's, or one made of the partitions' versions."""
    if plan.version is not None:
        return plan.version
    digest = hashlib.sha256()
    for read in reads:
        digest.update(f"{read.version}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def _plan_file(
    source: FileSource, window: Window, rows: int, count: int | None
) -> PartitionPlan | None:
    file = source.location(window)
    if not file.is_file():
        raise MissingInput(str(file), window)
    suffix = file.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        partitions = _parquet_partitions(file, source.time_column, window, rows, count)
        return PartitionPlan(partitions, str(file), file_version(file)) if partitions else None
    if suffix in _DELIMITERS and file.stat().st_size:
        return _csv_plan(file, _DELIMITERS[suffix], source.time_column, window, rows, count)
    return None  # a whole read says what is wrong with it


def _parquet_partitions(
    file: Path, time_column: str | None, window: Window, rows: int, count: int | None
) -> tuple[ParquetPartition, ...] | None:
    schema = _parquet_schema(file)
    if len(set(schema.names)) < len(schema.names):
        return None  # a whole read names the duplicates
    times = None
    if time_column is not None:
        _require_column(file, time_column, schema.names)
        column_type = schema.field(time_column).type
        parsed = pa.types.is_timestamp(column_type)
        start, end = window.start, window.end
        if parsed:
            _refuse_null_times(file, time_column, _parquet_null_count(file, time_column))
            if column_type.tz is None:  # a naive column holds UTC times
                start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        times = TimeFilter(time_column, start, end, parsed)
    metadata = pq.ParquetFile(file).metadata
    groups = [g for g in range(metadata.num_row_groups) if _may_hold(metadata, g, times)]
    sizes = [metadata.row_group(g).num_rows for g in groups]
    runs = _consecutive_runs(groups, sizes, rows, count)
    return tuple(ParquetPartition(str(file), run, times) for run in runs) or (
        ParquetPartition(str(file), (), times),
    )


def _may_hold(metadata: pq.FileMetaData, group: int, times: TimeFilter | None) -> bool:
    """Whether a row group's statistics allow a row inside the window."""
    if times is None or not times.parsed:
        return True
    names = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
    statistics = metadata.row_group(group).column(names.index(times.column)).statistics
    if statistics is None or not statistics.has_min_max:
        return True
    return bool(statistics.max >= times.start and statistics.min < times.end)


def _consecutive_runs(
    items: Sequence[int], sizes: Sequence[int], rows: int, count: int | None
) -> list[tuple[int, ...]]:
    """`items` cut into consecutive runs of about `rows` rows (or into `count` even runs)."""
    if not items:
        return []
    total = sum(sizes)
    wanted = count if count is not None else max(1, math.ceil(total / rows))
    wanted = min(wanted, len(items))
    runs: list[tuple[int, ...]] = []
    current: list[int] = []
    done = 0
    for item, size in zip(items, sizes, strict=True):
        current.append(item)
        done += size
        if done >= total * (len(runs) + 1) / wanted and len(runs) < wanted - 1:
            runs.append(tuple(current))
            current = []
    if current:
        runs.append(tuple(current))
    return runs


def _csv_plan(
    file: Path,
    delimiter: str,
    time_column: str | None,
    window: Window,
    rows: int,
    count: int | None,
) -> PartitionPlan | None:
    size = file.stat().st_size
    with file.open("rb") as handle:
        header = handle.readline()
        sample = handle.read(_SAMPLE_BYTES)
    names = _header_names(header, delimiter)
    if names is None or not sample.strip() or len(set(names)) < len(names):
        return None  # no rows, or a header a whole read refuses: it says why
    times = None
    if time_column is not None:
        _require_column(file, time_column, names)
        times = TimeFilter(time_column, window.start, window.end, parsed=False)
    data_bytes = size - len(header)
    if count is None:
        row_bytes = len(sample) / max(sample.count(b"\n"), 1)
        count = max(1, math.ceil(data_bytes / row_bytes / rows))
    cuts = _line_starts(file, len(header), size, count)
    partitions = tuple(
        CsvPartition(str(file), start, stop, tuple(names), delimiter, times)
        for start, stop in itertools.pairwise(cuts)
    )
    return PartitionPlan(
        partitions, str(file), file_version(file), quotes_before=header.count(b'"')
    )


def _header_names(header: bytes, delimiter: str) -> list[str] | None:
    try:
        line = header.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None
    row = next(csv.reader(io.StringIO(line), delimiter=delimiter), None)
    return row or None


def _line_starts(file: Path, first: int, size: int, count: int) -> list[int]:
    """Offsets cutting [first, size) into up to `count` ranges, each at a line's start."""
    cuts = [first]
    with file.open("rb") as handle:
        for index in range(1, count):
            target = max(first + (size - first) * index // count, cuts[-1])
            handle.seek(target)
            offset = target
            while True:
                block = handle.read(_LINE_SEARCH_BYTES)
                if not block:
                    offset = size
                    break
                found = block.find(b"\n")
                if found >= 0:
                    offset += found + 1
                    break
                offset += len(block)
            if cuts[-1] < offset < size:
                cuts.append(offset)
    cuts.append(size)
    return cuts


def _plan_sql(source: SqlSource, window: Window, rows: int, count: int | None) -> PartitionPlan:
    statement = text(f"SELECT count(*) FROM ({source.query}) AS shipml_window")
    total = int(_sql_scalar(source, statement, window.start, window.end, str(window)))
    wanted = count if count is not None else max(1, math.ceil(total / rows))
    span = window.end - window.start
    bounds = [window.start + span * index / wanted for index in range(wanted)] + [window.end]
    bounds = sorted(set(bounds))
    partitions = tuple(
        SqlPartition(source.url, source.query, start, end, source.location, str(window))
        for start, end in itertools.pairwise(bounds)
    )
    return PartitionPlan(partitions, source.location, None, rows=total)


_ENGINES: dict[str, Engine] = {}  # one connection pool per database URL in a worker process


def _connected(url: str) -> Engine:
    if url not in _ENGINES:
        _ENGINES[url] = create_engine(url, connect_args=_utc_session(url))
    return _ENGINES[url]


def _sql_scalar(source: SqlSource, statement: Any, start: datetime, end: datetime, w: str) -> Any:
    try:
        with source._connected().connect() as connection:
            return connection.execute(_bound(statement), {"start": start, "end": end}).scalar()
    except SQLAlchemyError as error:
        raise SourceError(
            f"{source.location}: query for window {w} failed: {_database_problem(error)}"
        ) from None


def _bound(statement: Any) -> Any:
    return statement.bindparams(
        bindparam("start", type_=DateTime(timezone=True)),
        bindparam("end", type_=DateTime(timezone=True)),
    )


def _read_sql_range(partition: SqlPartition) -> pd.DataFrame:
    try:
        with _connected(partition.url).connect() as connection:
            return pd.read_sql(
                _bound(text(partition.query)),
                connection,
                params={"start": partition.start, "end": partition.end},
            )
    except (SQLAlchemyError, pd.errors.DatabaseError) as error:
        raise SourceError(
            f"{partition.location}: query for window {partition.window} failed: "
            f"{_database_problem(error)}"
        ) from None


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


def _cast(frame: pd.DataFrame, casts: Mapping[str, str]) -> pd.DataFrame:
    changed = {name: dtype for name, dtype in casts.items() if str(frame[name].dtype) != dtype}
    return frame.astype(changed) if changed else frame


def _column_read(column: pd.Series) -> ColumnRead:
    empty = bool(len(column)) and bool(column.isna().all())
    holds = None
    if column.dtype == object and not empty:
        holds = pd.api.types.infer_dtype(column, skipna=True)
    return ColumnRead(str(column.dtype), empty, holds)


def _keep_parsed_times(
    frame: pd.DataFrame, times: TimeFilter
) -> tuple[pd.DataFrame, BadTimes | None]:
    """The rows in the window; or None and what is wrong with the times (as a whole read)."""
    values = frame[times.column]
    nulls = int(values.isna().sum())
    parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    unparsed = (parsed.isna() & values.notna()).to_numpy()
    if nulls or unparsed.any():
        first = int(unparsed.argmax()) if unparsed.any() else None
        value = values.iloc[first] if first is not None else None
        return frame.iloc[:0], BadTimes(times.column, nulls, int(unparsed.sum()), first, value)
    inside = (parsed >= times.start) & (parsed < times.end)
    return frame.loc[inside.to_numpy()].reset_index(drop=True), None


def _raise_bad_times(plan: PartitionPlan, reads: Sequence[PartitionRead]) -> None:
    """Refuse the window as `FileSource.read` would: empty times first, then unparsed ones."""
    bad = [(position, read.bad_times) for position, read in enumerate(reads) if read.bad_times]
    if not bad:
        return
    column = bad[0][1].column
    nulls = sum(b.nulls for _, b in bad)
    _refuse_null_times(Path(plan.location), column, nulls)
    position, first = next((p, b) for p, b in bad if b.first_row is not None)
    row = sum(read.raw_rows for read in reads[:position]) + (first.first_row or 0)
    raise UnusableInput(
        f"{plan.location}: column {column!r} has {sum(b.unparsed for _, b in bad)} value(s) "
        f"that are not ISO 8601 times, e.g. {first.first_value!r} at row {row} (0-based)"
    )


def _review_types(plan: PartitionPlan, reads: Sequence[PartitionRead]) -> Review:
    """The casts that give every partition the column types of a whole read."""
    text_file = any(isinstance(p, CsvPartition) for p in plan.partitions)
    casts: dict[int, dict[str, str]] = {}
    names = {name for read in reads for name in read.columns}
    with_rows = [read.raw_rows > 0 for read in reads]
    for name in sorted(names):
        found = [
            read.columns.get(name) if rows or not any(with_rows) else None
            for read, rows in zip(reads, with_rows, strict=True)
        ]
        target = _whole_read_type([c for c in found if c is not None], text_file)
        if target is None:
            return Review({}, f"column {name!r} reads as different types in different partitions")
        for position, column in enumerate(found):
            if column is not None and column.dtype != target:
                casts.setdefault(position, {})[name] = target
    return Review(casts)


def _whole_read_type(columns: Sequence[ColumnRead], text_file: bool) -> str | None:
    """The dtype a whole read gives a column the partitions read as `columns` (None: unknown)."""
    dtypes = {c.dtype for c in columns}
    if len(dtypes) <= 1:
        return next(iter(dtypes), None) or "object"
    filled = {
        c.dtype if c.holds is None else f"{c.dtype}:{c.holds}" for c in columns if not c.empty
    }
    some_empty = any(c.empty for c in columns)
    if len(filled) == 1:
        only = next(iter(filled))
        widened = {"int64": "float64", "bool": "object"}.get(only, only) if some_empty else only
        return widened.partition(":")[0]
    if filled <= {"int64", "float64"}:
        return "float64"
    if filled <= {"bool", "object:boolean"}:
        return "object"
    if text_file and "str" in filled and filled <= {"str", "int64", "float64", "bool"}:
        return "str"
    return None
