"""A window's Parquet output written in parts (one per partition, where it ran), committed whole.

Parts go to a staging directory beside the window's output, `.<window>.parquet.<run>.parts/`
(`part-00000.parquet`, ... in row order), each with the `run_id` column and the lineage
metadata `ParquetSink.write` gives a window's file. `commit_parts` drops empty parts (their
column types are guesses), makes the parts agree on one schema (a column that is int64 in
one part and double in another becomes double everywhere, as in a whole frame), and renames
the directory to the window's output, `<window>.parquet/`: a Parquet dataset that
`pandas.read_parquet` reads as the window's rows, in order. An earlier output of the window
(a file or a directory) is moved aside first and deleted after: a crash in between leaves no
output, never a partial one, and the next run of the window cleans up what a crash left.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from shipml.io.sinks import RUN_COLUMN, ParquetSink, _fsync_directory, _with_lineage
from shipml.windows import Window

_STAGING_SUFFIX = ".parts"
_ASIDE_SUFFIX = ".old"


@dataclass(frozen=True)
class PartsTarget:
    """Where the parts of one run of a window go, and what every row gets."""

    directory: str  # the staging directory
    output: str  # the window's output, once committed
    window: Window
    run_id: str
    columns: Mapping[str, Any]  # added to every row (e.g. the model version)


@dataclass(frozen=True)
class WrittenPart:
    """A part on disk: its file and its rows."""

    file: str
    rows: int


def parts_target(
    sink: ParquetSink, pipeline: str, window: Window, run_id: str, columns: Mapping[str, Any]
) -> PartsTarget:
    """A fresh staging directory for the run's parts; what earlier runs left there is removed."""
    output = sink.location(pipeline, window)
    discard_leftovers(output)
    staging = output.with_name(f".{output.name}.{run_id}{_STAGING_SUFFIX}")
    staging.mkdir(parents=True)
    return PartsTarget(str(staging), str(output), window, run_id, dict(columns))


def write_part(target: PartsTarget, index: int, frame: pd.DataFrame) -> WrittenPart:
    """Write partition `index`'s output rows as one part (on the worker that made them)."""
    rows = frame.reset_index(drop=True).assign(**target.columns, **{RUN_COLUMN: target.run_id})
    table = pa.Table.from_pandas(rows, preserve_index=False)
    table = _with_lineage(table, target.window, target.run_id)
    file = Path(target.directory) / f"part-{index:05d}.parquet"
    with file.open("wb") as handle:
        pq.write_table(table, handle)
        handle.flush()
        os.fsync(handle.fileno())
    return WrittenPart(str(file), len(rows))


def parts_to_align(parts: Sequence[WrittenPart]) -> tuple[list[WrittenPart], pa.Schema | None]:
    """The non-empty parts whose schema differs from their common one, and that schema."""
    filled = [part for part in parts if part.rows]
    schemas = [pq.read_schema(part.file) for part in filled]
    if not schemas:
        return [], None
    common = pa.unify_schemas(schemas, promote_options="permissive").remove_metadata()
    differ = [
        part
        for part, schema in zip(filled, schemas, strict=True)
        if not schema.remove_metadata().equals(common)
    ]
    return differ, common


def align_part(part: WrittenPart, schema: pa.Schema) -> None:
    """Rewrite a part in `schema`, one row group at a time (on a worker)."""
    file = Path(part.file)
    source = pq.ParquetFile(file)
    metadata = source.schema_arrow.metadata
    rewritten = file.with_name(file.name + ".aligned")
    with pq.ParquetWriter(rewritten, schema.with_metadata(metadata)) as writer:
        for group in range(source.num_row_groups):
            table = source.read_row_group(group).cast(schema.with_metadata(metadata))
            writer.write_table(table)
    os.replace(rewritten, file)


def commit_parts(target: PartsTarget, parts: Sequence[WrittenPart]) -> str:
    """Make the parts the window's output (replacing any earlier one); return its location."""
    kept = {Path(part.file) for part in parts if part.rows} or {Path(p.file) for p in parts[:1]}
    staging = Path(target.directory)
    for file in staging.iterdir():  # empty parts, and those of an attempt that was redone
        if file not in kept:
            file.unlink()
    _fsync_directory(staging)
    replace_output(staging, Path(target.output))
    return target.output


def discard_parts(target: PartsTarget) -> None:
    """Remove a run's parts (its window failed)."""
    shutil.rmtree(target.directory, ignore_errors=True)


def replace_output(new: Path, output: Path) -> None:
    """Put `new` (a file or a directory) in the place of `output`, whichever `output` is now."""
    aside = None
    if output.exists() and (output.is_dir() or new.is_dir()):  # os.replace cannot swap these
        aside = output.with_name(f".{output.name}.{new.name}{_ASIDE_SUFFIX}")
        os.replace(output, aside)
    os.replace(new, output)
    _fsync_directory(output.parent)
    if aside is not None and aside.is_dir():
        shutil.rmtree(aside)
    elif aside is not None:
        aside.unlink()


def discard_leftovers(output: Path) -> None:
    """Remove staging directories and outputs set aside that crashed runs left behind."""
    if not output.parent.is_dir():
        return
    for leftover in output.parent.glob(f".{output.name}.*"):
        if leftover.name.endswith((_STAGING_SUFFIX, _ASIDE_SUFFIX)):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
