"""Read a CSV or Parquet file into a DataFrame, refusing unusable input with one clear line.

Supported: `.csv` (comma), `.tsv` (tab), `.parquet` and `.pq`; the suffix decides, in any case.
Compressed CSV (`.csv.gz`), Excel and JSON are not read. Refused, as `UnusableInput`: a missing
or empty file, a header without rows, another delimiter than the expected one, bytes that are
not in the encoding, duplicate column names, a binary file named `.csv`, a cell longer than
`max_cell_chars`, a file above `max_bytes`, a corrupt Parquet file and an unknown suffix.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import types
import warnings
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel

from shipml.contracts.dates import DateFormat
from shipml.errors import UnusableInput, first_line

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pq")
DEFAULT_MAX_CELL_CHARS = 1_000_000
MEMORY_SHARE = 4  # by default a file may use a quarter of the memory available

_HEADER_BYTES = 4 * 1024 * 1024  # the longest header line read for the checks
_SAMPLE_BYTES = 64 * 1024  # bytes after the header inspected for encoding and binary content
_SCAN_BLOCK = 1024 * 1024
_OTHER_DELIMITERS = (";", "\t", "|", ",")
_SIGNATURES = (
    (b"PAR1", "is a Parquet file: name it .parquet"),
    (b"\x1f\x8b", "is gzip-compressed: decompress it first"),
    (b"PK\x03\x04", "is a zip archive (an Excel workbook?): export it as CSV"),
)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_table(
    path: str | os.PathLike[str],
    *,
    max_bytes: int | None = None,
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS,
    delimiter: str | None = None,
    encoding: str = "utf-8",
    text_columns: Iterable[str] = (),
    allow_empty: bool = False,
) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet file; raise `UnusableInput` with one line when it is unusable.

    `max_bytes` caps the file size (CSV) or the decoded data size (Parquet); by default a
    quarter of the memory available. `text_columns` are read as strings whatever they look like
    (CSV only: "01234" stays "01234"). A file without rows is refused unless `allow_empty`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    size = _file_size(path)
    limit = default_max_bytes() if max_bytes is None else max_bytes
    if suffix in CSV_SUFFIXES:
        frame = _read_csv(
            path,
            size=size,
            max_bytes=limit,
            delimiter=delimiter or CSV_SUFFIXES[suffix],
            encoding=encoding,
            text_columns=set(text_columns),
        )
    elif suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(path, max_bytes=limit)
    else:
        supported = ", ".join([*CSV_SUFFIXES, *PARQUET_SUFFIXES])
        raise UnusableInput(f"{path}: unsupported file type {suffix!r}; shipml reads {supported}")
    if len(frame) == 0 and not allow_empty:
        has = "a header" if suffix in CSV_SUFFIXES else "columns"
        raise UnusableInput(f"{path} has {has} but no rows")
    _check_cell_sizes(path, frame, max_cell_chars)
    return frame


def default_max_bytes() -> int | None:
    """The default size limit: a quarter of the memory available now (None when unknown)."""
    available = available_memory()
    return None if available is None else available // MEMORY_SHARE


def available_memory() -> int | None:
    """Bytes of memory available to this process: the system's, capped by a cgroup limit."""
    known = [m for m in (_meminfo_available(), _cgroup_headroom()) if m is not None]
    return min(known) if known else _sysconf_available()


def text_columns_of(model: type[BaseModel]) -> list[str]:
    """Fields of `model` that hold strings (`str`, string `Literal`/`Enum`, optional or not).

    Dates in a declared format are text too: `20240105` (`%Y%m%d`) must not become a number.
    """
    return [
        info.alias if isinstance(info.alias, str) else name
        for name, info in model.model_fields.items()
        if _is_text_annotation(info.annotation)
        or _declares_text_format([*info.metadata, info.annotation])
    ]


def _declares_text_format(items: list[Any]) -> bool:
    """Whether a `DateFormat` of strftime formats is among `items` or in their annotations."""
    for item in items:
        if isinstance(item, DateFormat) and not item.epoch:
            return True
        nested = get_origin(item) in (Annotated, Union, types.UnionType)
        if nested and _declares_text_format(list(get_args(item))):
            return True
    return False


def _is_text_annotation(annotation: Any) -> bool:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return len(members) == 1 and _is_text_annotation(members[0])
    if annotation is str:
        return True
    if get_origin(annotation) is Literal:
        return all(isinstance(value, str) for value in get_args(annotation))
    return (
        isinstance(annotation, type)
        and issubclass(annotation, Enum)
        and issubclass(annotation, str)
    )


def _file_size(path: Path) -> int:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise UnusableInput(f"{path}: no such file") from None
    except OSError as error:
        raise UnusableInput(f"{path} cannot be read: {error.strerror}") from None
    if path.is_dir():
        raise UnusableInput(f"{path} is a directory, not a data file")
    if stat.st_size == 0:
        raise UnusableInput(f"{path} is empty")
    return stat.st_size


def _check_size(path: Path, size: int, max_bytes: int | None, what: str) -> None:
    if max_bytes is not None and size > max_bytes:
        raise UnusableInput(
            f"{path} {what} {_human(size)}, above the read limit of {_human(max_bytes)}; "
            "raise max_bytes (--max-bytes) if the machine can hold it "
            "(the default is a quarter of the available memory)"
        )


def _read_csv(
    path: Path,
    *,
    size: int,
    max_bytes: int | None,
    delimiter: str,
    encoding: str,
    text_columns: set[str],
) -> pd.DataFrame:
    _check_size(path, size, max_bytes, "is")
    _check_encoding_name(encoding)
    if len(delimiter) != 1:
        raise UnusableInput(f"the delimiter must be one character, not {delimiter!r}")
    header = _inspect_start(path, size, delimiter, encoding)
    options: dict[str, Any] = {
        "sep": delimiter,
        "encoding": encoding,
        "dtype": {name: "str" for name in header if name in text_columns} or None,
    }
    try:
        return _parse_csv(path, options)
    except UnicodeDecodeError:
        raise UnusableInput(_undecodable_message(path, encoding)) from None
    except pd.errors.EmptyDataError:
        raise UnusableInput(f"{path} is empty (no header line)") from None
    except pd.errors.ParserError as error:
        raise UnusableInput(f"{path} is not valid CSV: {_parser_problem(error)}") from None


def _parse_csv(path: Path, options: dict[str, Any]) -> pd.DataFrame:
    """Parse in chunks (fast); again in one piece when chunks disagree on a column's type."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.DtypeWarning)
        frame: pd.DataFrame = pd.read_csv(path, **options)
    mixed_types = False
    for warning in caught:
        if issubclass(warning.category, pd.errors.DtypeWarning):
            mixed_types = True
        else:
            warnings.warn(warning.message, warning.category, stacklevel=3)
    if mixed_types:
        # A column mixing e.g. ints and text came out as a mix of Python objects; a whole-file
        # parse types it consistently (all text), at about 1.5 times the cost.
        frame = pd.read_csv(path, low_memory=False, **options)
    return frame


def _check_encoding_name(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnusableInput(f"unknown encoding {encoding!r}") from None


def _inspect_start(path: Path, size: int, delimiter: str, encoding: str) -> list[str]:
    """Check the first bytes (signature, encoding, binary) and return the header's names."""
    try:
        with path.open("rb") as handle:
            start = handle.readline(_HEADER_BYTES) + handle.read(_SAMPLE_BYTES)
    except OSError as error:
        raise UnusableInput(f"{path} cannot be read: {error.strerror}") from None
    for signature, problem in _SIGNATURES:
        if start.startswith(signature):
            raise UnusableInput(f"{path} {problem}")
    if start.startswith(_UTF16_BOMS) and not codecs.lookup(encoding).name.startswith("utf-16"):
        raise UnusableInput(
            f"{path} looks UTF-16 encoded: pass encoding='utf-16' (--encoding utf-16)"
        )
    binary = f"{path} looks like a binary file, not {_kind_of(delimiter)} text"
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(start, final=len(start) == size)
    except UnicodeDecodeError:
        problem = binary if b"\x00" in start else _undecodable_message(path, encoding)
        raise UnusableInput(problem) from None
    if "\x00" in text:
        raise UnusableInput(binary)
    header = _header_names(text.removeprefix("\ufeff"), delimiter)
    _check_delimiter(path, header, delimiter)
    _check_unique_names(path, header)
    return header


def _header_names(text: str, delimiter: str) -> list[str]:
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return next((row for row in rows if row), [])
    except csv.Error:
        return []  # the full read reports what is wrong with the file


def _check_delimiter(path: Path, header: list[str], delimiter: str) -> None:
    if len(header) != 1:
        return
    for other in _OTHER_DELIMITERS:
        if other != delimiter and other in header[0]:
            shown = "tab" if other == "\t" else other
            raise UnusableInput(
                f"{path} looks {shown}-delimited, not {_delimiter_name(delimiter)}-delimited "
                f"(its header is one column: {header[0][:80]!r}); pass delimiter={other!r} "
                f"(--delimiter {other!r})"
            )


def _check_unique_names(path: Path, names: list[str]) -> None:
    seen: dict[str, int] = {}
    repeated: list[str] = []
    for position, name in enumerate(names, start=1):
        if name and name in seen:
            repeated.append(f"{name!r} (columns {seen[name]} and {position})")
        seen.setdefault(name, position)
    if repeated:
        raise UnusableInput(f"{path} has duplicate column names: {', '.join(repeated)}")


def _undecodable_message(path: Path, encoding: str) -> str:
    """Where the first byte that `encoding` cannot decode is, and what to do about it."""
    found = _first_undecodable(path, encoding)
    if found is None:
        return f"{path} is not valid {encoding}; pass the file's encoding (--encoding)"
    offset, line, byte = found
    return (
        f"{path} is not valid {encoding}: byte 0x{byte:02x} at offset {offset} (line {line}); "
        "pass the file's encoding, e.g. encoding='latin-1' (--encoding latin-1)"
    )


def _first_undecodable(path: Path, encoding: str) -> tuple[int, int, int] | None:
    """(byte offset, line number, byte value) of the first undecodable byte, if any."""
    decoder = codecs.getincrementaldecoder(encoding)()
    consumed = 0
    lines = 1
    with path.open("rb") as handle:
        while block := handle.read(_SCAN_BLOCK):
            pending, _ = decoder.getstate()
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                data = pending + block
                offset = consumed - len(pending) + error.start
                lines += data.count(b"\n", 0, error.start) - pending.count(b"\n")
                return offset, lines, data[error.start]
            consumed += len(block)
            lines += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            tail = error.object
            return consumed - len(tail) + error.start, lines, tail[error.start]
    return None


def _parser_problem(error: pd.errors.ParserError) -> str:
    problem = str(error).strip().splitlines()[0]
    problem = problem.removeprefix("Error tokenizing data. C error: ")
    if "EOF inside string" in problem:
        return f"{problem} (an unclosed quote?)"
    return problem


def _read_parquet(path: Path, *, max_bytes: int | None) -> pd.DataFrame:
    try:
        metadata = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as error:
        problem = first_line(error)
        raise UnusableInput(f"{path} is not a readable Parquet file: {problem}") from None
    _check_size(path, _parquet_data_size(metadata), max_bytes, "holds about")
    _check_unique_names(path, list(metadata.schema.to_arrow_schema().names))
    try:
        return pd.read_parquet(path, engine="pyarrow")
    except (pa.ArrowException, OSError, ValueError) as error:
        raise UnusableInput(f"{path} could not be read as Parquet: {first_line(error)}") from None


def _parquet_data_size(metadata: pq.FileMetaData) -> int:
    """Bytes the data takes once decoded (an estimate)."""
    # Dictionary and run-length encodings shrink even uncompressed pages far below the
    # decoded size, so count at least 8 bytes a value.
    groups = range(metadata.num_row_groups)
    uncompressed = sum(metadata.row_group(i).total_byte_size for i in groups)
    return int(max(uncompressed, metadata.num_rows * metadata.num_columns * 8))


def _check_cell_sizes(path: Path, frame: pd.DataFrame, max_cell_chars: int) -> None:
    """Refuse a string longer than `max_cell_chars` (often the sign of an unclosed quote)."""
    for name in frame.columns:
        column = frame[name]
        lengths = _string_lengths(column)
        if lengths is None or len(lengths) == 0:
            continue
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > max_cell_chars:
            row = pc.index(lengths, longest).as_py()
            raise UnusableInput(
                f"{path}: column {name!r} holds a {longest:,}-character value at row {row} "
                f"(0-based), above the limit of {max_cell_chars:,} (an unclosed quote?); "
                "raise max_cell_chars (--max-cell-chars) if the value is real"
            )


def _string_lengths(column: pd.Series) -> pa.Array | None:
    """Character lengths of a string column (null for missing values); None for other columns."""
    if isinstance(column.dtype, pd.StringDtype):
        return pc.utf8_length(pa.array(column.array))
    strings = pd.api.types.is_object_dtype(column.dtype)
    if strings and pd.api.types.infer_dtype(column, skipna=True) == "string":
        return pa.array(column.map(len, na_action="ignore"), type=pa.int64(), from_pandas=True)
    return None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom() -> int | None:
    """Limit minus usage of this process's memory cgroup (v2, then v1), when limited."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:  # "max" or a huge number: unlimited
            return max(int(limit) - usage, 0)
    return None


def _sysconf_available() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _kind_of(delimiter: str) -> str:
    return "TSV" if delimiter == "\t" else "CSV"


def _delimiter_name(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else delimiter


def _human(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
