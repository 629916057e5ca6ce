"""A window's rows read in partitions, each on its own (on a Dask worker), never all at once.

`plan_partitions(source, window)` looks at metadata and a few bytes only, in this process:

- files (each of the window's files, in the order a whole read concatenates them):
  - Parquet: whole row groups, consecutive groups put together up to `rows` rows. With a
    time column of timestamp type, row groups whose statistics show no row in the window
    are skipped, and each partition keeps the rows in [start, end) as it reads;
  - CSV/TSV: byte ranges of about `rows` rows (estimated from the first lines), cut at line
    ends; with a time column, each block keeps the rows whose time lies in the window.
- SQL: the window cut into consecutive time ranges, the source's query run for each. The
  query must select the rows of [start, end) exactly (`ts >= :start AND ts < :end`) and order
  them by time, so the ranges add up to the window in a whole read's order. A count query
  decides how many ranges, and checks that they added up.

`read_partition(partition)` reads one partition (on a worker) and says what it found;
`review_reads` (in this process) checks the reads against a whole read: the same refusals and
reports (`_partition_review`), the same column types (partitions that read a column otherwise
are read again with casts), and cuts it can trust (else it asks for a whole read). A source
kind, or a file, without a partitioned reading gives no plan: the window is read whole.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from shipml.contracts import PARQUET_SUFFIXES
from shipml.errors import SourceError
from shipml.io._partition_reads import bound, read_partition
from shipml.io._partition_review import review_reads
from shipml.io._partition_types import (
    BadTimes,
    ColumnRead,
    CsvPartition,
    FilesFacts,
    ParquetPartition,
    Partition,
    PartitionPlan,
    PartitionRead,
    Review,
    SqlPartition,
    TimeFilter,
)
from shipml.io.sources import (
    FileSource,
    Source,
    SqlSource,
    _database_problem,
    _files_version,
    _parquet_null_count,
    _parquet_schema,
    _refuse_null_times,
    _require_column,
)
from shipml.windows import Window

__all__ = [
    "DEFAULT_ROWS",
    "BadTimes",
    "ColumnRead",
    "CsvPartition",
    "ParquetPartition",
    "Partition",
    "PartitionPlan",
    "PartitionRead",
    "Review",
    "SqlPartition",
    "TimeFilter",
    "data_version",
    "plan_partitions",
    "read_partition",
    "review_reads",
]

DEFAULT_ROWS = 500_000  # rows a partition holds about (a few hundred MB through a flow)
_DELIMITERS = {".csv": ",", ".tsv": "\t"}
_SAMPLE_BYTES = 1024 * 1024  # read to estimate the bytes of a CSV row
_LINE_SEARCH_BYTES = 64 * 1024


def plan_partitions(
    source: Source, window: Window, *, rows: int = DEFAULT_ROWS, count: int | None = None
) -> PartitionPlan | None:
    """Partitions of about `rows` rows (or `count` of them, per file for files)."""
    if isinstance(source, FileSource):
        return _plan_files(source, window, rows, count)
    if isinstance(source, SqlSource):
        return _plan_sql(source, window, rows, count)
    return None


def data_version(plan: PartitionPlan, reads: Sequence[PartitionRead]) -> str:
    """The version of the data read: the files', or one made of the partitions' versions."""
    if plan.version is not None:
        return plan.version
    digest = hashlib.sha256()
    for read in reads:
        digest.update(f"{read.version}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def _plan_files(
    source: FileSource, window: Window, rows: int, count: int | None
) -> PartitionPlan | None:
    files = source._files(window)  # raises as a whole read does when files are missing
    planned: list[tuple[tuple[Partition, ...], list[str], int, int]] = []
    for file in files:
        found = _plan_file(file, source, window, rows, count)
        if found is None:
            return None
        planned.append(found)
    if any(names != planned[0][1] for _, names, _, _ in planned):
        return None  # files with other columns (or order): a whole read says what it does
    where = str(files[0]) if len(files) == 1 else f"{files[0]} and {len(files) - 1} more"
    facts = FilesFacts(
        window=window,
        where=where,
        allow_empty=source.allow_empty,
        fits_windows=source._files_fit_windows(window),
        header_quotes={str(f): quotes for f, (_, _, quotes, _) in zip(files, planned, strict=True)},
        rows_skipped=sum(skipped for _, _, _, skipped in planned),
    )
    partitions = tuple(p for found, _, _, _ in planned for p in found)
    return PartitionPlan(partitions, where, _files_version(files), files=facts)


def _plan_file(
    file: Path, source: FileSource, window: Window, rows: int, count: int | None
) -> tuple[tuple[Partition, ...], list[str], int, int] | None:
    """A file's partitions, column names, header quotes and rows skipped (None: read whole)."""
    suffix = file.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return _parquet_plan(file, source, window, rows, count)
    if suffix in _DELIMITERS and file.stat().st_size:
        return _csv_plan(file, _DELIMITERS[suffix], source, window, rows, count)
    return None  # a whole read says what is wrong with it


def _parquet_plan(
    file: Path, source: FileSource, window: Window, rows: int, count: int | None
) -> tuple[tuple[Partition, ...], list[str], int, int] | None:
    schema = _parquet_schema(file)
    if len(set(schema.names)) < len(schema.names):
        return None  # a whole read names the duplicates
    times = None
    if source.time_column is not None:
        column = source.time_column
        _require_column(file, column, schema.names)
        column_type = schema.field(column).type
        parsed = pa.types.is_timestamp(column_type)
        start, end = window.start, window.end
        if parsed:
            _refuse_null_times(file, column, _parquet_null_count(file, column))
            if column_type.tz is None:  # a naive column holds UTC times
                start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
        times = TimeFilter(column, start, end, parsed, source.time_format)
    metadata = pq.ParquetFile(file).metadata
    groups = [g for g in range(metadata.num_row_groups) if _may_hold(metadata, g, times)]
    sizes = [metadata.row_group(g).num_rows for g in groups]
    runs = _consecutive_runs(groups, sizes, rows, count) or [()]
    partitions = tuple(ParquetPartition(str(file), run, times) for run in runs)
    return partitions, list(schema.names), 0, metadata.num_rows - sum(sizes)


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
    wanted = min(count if count is not None else max(1, math.ceil(total / rows)), len(items))
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
    source: FileSource,
    window: Window,
    rows: int,
    count: int | None,
) -> tuple[tuple[Partition, ...], list[str], int, int] | None:
    size = file.stat().st_size
    with file.open("rb") as handle:
        header = handle.readline()
        sample = handle.read(_SAMPLE_BYTES)
    names = _header_names(header, delimiter)
    if names is None or not sample.strip() or len(set(names)) < len(names):
        return None  # no rows, or a header a whole read refuses: it says why
    times = None
    if source.time_column is not None:
        _require_column(file, source.time_column, names)
        times = TimeFilter(source.time_column, window.start, window.end, False, source.time_format)
    if count is None:
        row_bytes = len(sample) / max(sample.count(b"\n"), 1)
        count = max(1, math.ceil((size - len(header)) / row_bytes / rows))
    cuts = _line_starts(file, len(header), size, count)
    partitions = tuple(
        CsvPartition(str(file), start, stop, tuple(names), delimiter, times)
        for start, stop in itertools.pairwise(cuts)
    )
    return partitions, names, header.count(b'"'), 0


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
    statement = bound(text(f"SELECT count(*) FROM ({source.query}) AS shipml_window"))
    try:
        with source._connected().connect() as connection:
            found = connection.execute(statement, {"start": window.start, "end": window.end})
            total = int(found.scalar_one())
    except SQLAlchemyError as error:
        raise SourceError(
            f"{source.location}: query for window {window} failed: {_database_problem(error)}"
        ) from None
    wanted = count if count is not None else max(1, math.ceil(total / rows))
    span = window.end - window.start
    bounds = sorted({window.start + span * index / wanted for index in range(wanted)})
    bounds.append(window.end)
    partitions = tuple(
        SqlPartition(source.url, source.query, start, end, source.location, str(window))
        for start, end in itertools.pairwise(bounds)
    )
    return PartitionPlan(partitions, source.location, None, rows=total)
