"""What a partitioned read plans (partitions, small and picklable) and what each read finds."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from shipml.errors import ShipmlError
from shipml.windows import Window


@dataclass(frozen=True)
class TimeFilter:
    """Keep the rows whose `column` lies in [start, end) (naive times are UTC)."""

    column: str
    start: datetime
    end: datetime
    parsed: bool  # True: a timestamp column (filtered by pyarrow); False: times to parse
    time_format: str | None = None  # of times written as text; None: ISO 8601


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

    url: str = field(repr=False)  # may hold a password: never in a worker's log line
    query: str
    start: datetime
    end: datetime
    location: str
    window: str  # the whole window, as its errors name it


Partition = ParquetPartition | CsvPartition | SqlPartition


@dataclass(frozen=True)
class FilesFacts:
    """What a whole read of a window's files checks once their rows are read."""

    window: Window
    where: str  # the files, as a whole read names them
    allow_empty: bool
    fits_windows: bool  # files named for windows like this one: rows outside are a surprise
    header_quotes: Mapping[str, int]  # quote characters in each CSV file's header
    rows_skipped: int  # rows of Parquet row groups wholly outside the window (never read)


@dataclass(frozen=True)
class PartitionPlan:
    """How a window's rows are read in partitions, and what a whole read would check."""

    partitions: tuple[Partition, ...]
    location: str
    version: str | None  # None: known after the reads (SQL)
    rows: int | None = None  # the rows of the window when known up front (SQL's count)
    files: FilesFacts | None = None


@dataclass(frozen=True)
class BadTimes:
    """Rows of a partition whose time is missing or cannot be read."""

    file: str
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

    frame: pd.DataFrame | None  # None when the read found a problem, or in `facts()`
    raw_rows: int  # rows read before the time filter
    columns: dict[str, ColumnRead]
    kept: int = 0  # rows in the window
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
