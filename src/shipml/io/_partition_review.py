"""Check a window's partition reads against what one whole read would have given.

Whole-read refusals are raised with the whole read's message (times missing or unreadable,
counted from the file's first row; no rows in the window), and rows outside the window are
reported as it reports them. Column types the partitions read differently (an int column
with a null in one block only) get casts to the whole read's type; a cut that cannot be
trusted (inside a quoted value, a block pandas cannot parse alone) asks for a whole read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shipml.errors import EmptyInput, SourceError, UnusableInput
from shipml.io._partition_types import (
    ColumnRead,
    CsvPartition,
    FilesFacts,
    Partition,
    PartitionPlan,
    PartitionRead,
    Review,
    SqlPartition,
)
from shipml.io.sources import _emptiness, _refuse_null_times, _report_outside


def review_reads(plan: PartitionPlan, reads: Sequence[PartitionRead]) -> Review:
    """Raise what a whole read would have refused; say which partitions to read again."""
    for position, read in enumerate(reads):
        if read.error is not None:
            raise read.error
        if read.unreadable is not None:
            return Review({}, f"partition {position} could not be read alone: {read.unreadable}")
    if plan.files is None:
        _check_query_rows(plan, reads)
        return _review_types(plan, reads)
    _raise_bad_times(plan, reads)
    cut = _cut_inside_quotes(plan, plan.files, reads)
    if cut is not None:
        return Review({}, f"a quoted value spans the cut after partition {cut}")
    review = _review_types(plan, reads)
    if review.whole is None:
        _check_rows(plan.files, reads)
    return review


def _check_query_rows(plan: PartitionPlan, reads: Sequence[PartitionRead]) -> None:
    """Refuse time ranges whose rows do not add up to the window's (overlapping ranges)."""
    found = sum(read.raw_rows for read in reads)
    if plan.rows is not None and found != plan.rows:
        raise SourceError(
            f"{plan.location}: the query's rows for parts of the window add up to {found:,}, "
            f"not the window's {plan.rows:,}; select exactly [start, end) "
            "(e.g. ts >= :start AND ts < :end), or the rows changed while they were read"
        )


def _raise_bad_times(plan: PartitionPlan, reads: Sequence[PartitionRead]) -> None:
    """Refuse the window as `FileSource.read` would: at the first file with bad times."""
    for file, mine in _by_file(plan.partitions, reads):
        bad = [(b, p, r.bad_times) for b, p, r in mine if r.bad_times is not None]
        if not bad:
            continue
        _refuse_null_times(Path(file), bad[0][2].column, sum(t.nulls for _, _, t in bad))
        before, position, first = next((b, p, t) for b, p, t in bad if t.first_row is not None)
        assert first.first_row is not None  # chosen so
        times = getattr(plan.partitions[position], "times", None)
        time_format = times.time_format if times is not None else None
        expected = (
            f"times written {time_format!r} (source.time_format)"
            if time_format
            else "ISO 8601 times (set source.time_format for another format, e.g. '%d/%m/%Y %H:%M')"
        )  # as FileSource.read words it
        raise UnusableInput(
            f"{file}: column {first.column!r} has {sum(t.unparsed for _, _, t in bad)} value(s) "
            f"that are not {expected}, e.g. {first.first_value!r} at row "
            f"{before + first.first_row} (0-based)"
        )


def _by_file(
    partitions: Sequence[Partition], reads: Sequence[PartitionRead]
) -> list[tuple[str, list[tuple[int, int, PartitionRead]]]]:
    """Each file's reads in order: (rows its earlier partitions read, position, read)."""
    grouped: dict[str, list[tuple[int, int, PartitionRead]]] = {}
    for position, (partition, read) in enumerate(zip(partitions, reads, strict=True)):
        if isinstance(partition, SqlPartition):
            continue
        mine = grouped.setdefault(partition.file, [])
        before = sum(earlier.raw_rows for _, _, earlier in mine)
        mine.append((before, position, read))
    return list(grouped.items())


def _cut_inside_quotes(
    plan: PartitionPlan, files: FilesFacts, reads: Sequence[PartitionRead]
) -> int | None:
    """The partition after which a CSV was cut inside a quoted value (odd quotes before)."""
    quotes: dict[str, int] = dict(files.header_quotes)
    for position, (partition, read) in enumerate(zip(plan.partitions, reads, strict=True)):
        if not isinstance(partition, CsvPartition):
            continue
        quotes[partition.file] = quotes.get(partition.file, 0) + read.quotes
        if quotes[partition.file] % 2:
            return position
    return None


def _check_rows(files: FilesFacts, reads: Sequence[PartitionRead]) -> None:
    """Report rows outside the window, and refuse a window without rows, as a whole read."""
    kept = sum(read.kept for read in reads)
    outside = files.rows_skipped + sum(read.raw_rows - read.kept for read in reads)
    if outside:
        _report_outside(files.where, files.window, kept, outside, files.fits_windows)
    if not kept and not files.allow_empty:
        raise EmptyInput(files.where, files.window, _emptiness(files.where, outside))


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
