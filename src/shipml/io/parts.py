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
The same staging serves any window's dataset that workers write (`staged_parts`: the
prediction log's, with its own location and columns).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
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
    run_column: str | None = RUN_COLUMN  # the column holding the run id (None: none)
    labels_column: str | None = None  # keep each row's label here (to be rewritten at commit)


@dataclass(frozen=True)
class WrittenPart:
    """A part on disk: its file and its rows."""

    file: str
    rows: int


def parts_target(
    sink: ParquetSink,
    pipeline: str,
    window: Window,
    run_id: str,
    columns: Mapping[str, Any],
    labels_column: str | None = None,
) -> PartsTarget:
    """A fresh staging directory for the run's parts; what earlier runs left there is removed."""
    output = sink.location(pipeline, window)
    return staged_parts(output, window, run_id, columns, labels_column=labels_column)


def staged_parts(
    output: Path,
    window: Window,
    run_id: str,
    columns: Mapping[str, Any],
    *,
    run_column: str | None = RUN_COLUMN,
    labels_column: str | None = None,
) -> PartsTarget:
    """A fresh staging directory for parts that become `output` when committed."""
    discard_leftovers(output)
    staging = output.with_name(f".{output.name}.{run_id}{_STAGING_SUFFIX}")
    staging.mkdir(parents=True)
    return PartsTarget(
        str(staging), str(output), window, run_id, dict(columns), run_column, labels_column
    )


def write_part(target: PartsTarget, index: int, frame: pd.DataFrame) -> WrittenPart:
    """Write partition `index`'s output rows as one part (on the worker that made them)."""
    labels = {target.labels_column: frame.index.to_numpy()} if target.labels_column else {}
    run = {target.run_column: target.run_id} if target.run_column else {}
    rows = frame.reset_index(drop=True).assign(**target.columns, **labels, **run)
    table = pa.Table.from_pandas(rows, preserve_index=False)
    table = _with_lineage(table, target.window, target.run_id)
    file = Path(target.directory) / f"part-{index:05d}.parquet"
    with file.open("wb") as handle:
        pq.write_table(table, handle)
        handle.flush()
        os.fsync(handle.fileno())
    return WrittenPart(str(file), len(rows))


def kept_parts(parts: Sequence[WrittenPart]) -> list[WrittenPart]:
    """The parts a commit keeps: those with rows, or the first one when none has any."""
    return [part for part in parts if part.rows] or list(parts[:1])


def common_schema(parts: Sequence[WrittenPart]) -> pa.Schema | None:
    """The one schema `parts` agree on (types promoted as in a whole frame), without metadata."""
    schemas = [pq.read_schema(part.file) for part in parts]
    if not schemas:
        return None
    return pa.unify_schemas(schemas, promote_options="permissive").remove_metadata()


def parts_to_align(parts: Sequence[WrittenPart]) -> tuple[list[WrittenPart], pa.Schema | None]:
    """The non-empty parts whose schema differs from their common one, and that schema."""
    filled = [part for part in parts if part.rows]
    common = common_schema(filled)
    if common is None:
        return [], None
    differ = [
        part for part in filled if not pq.read_schema(part.file).remove_metadata().equals(common)
    ]
    return differ, common


def align_part(
    part: WrittenPart,
    schema: pa.Schema,
    change: Callable[[pa.Table], pa.Table] | None = None,
) -> None:
    """Rewrite a part in `schema`, one row group at a time, each `change`d first (on a worker)."""
    file = Path(part.file)
    source = pq.ParquetFile(file)
    metadata = source.schema_arrow.metadata
    rewritten = file.with_name(file.name + ".aligned")
    with pq.ParquetWriter(rewritten, schema.with_metadata(metadata)) as writer:
        for group in range(source.num_row_groups):
            table = source.read_row_group(group)
            if change is not None:
                table = change(table)
            writer.write_table(table.cast(schema.with_metadata(metadata)))
    os.replace(rewritten, file)


def commit_parts(target: PartsTarget, parts: Sequence[WrittenPart]) -> str:
    """Make the parts the window's output (replacing any earlier one); return its location."""
    kept = {Path(part.file) for part in kept_parts(parts)}
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
    if aside is not None:
        remove_output(aside)


def remove_output(output: Path) -> None:
    """Remove `output`, a file or a directory of parts (nothing when it is not there)."""
    if output.is_dir():
        shutil.rmtree(output, ignore_errors=True)
    else:
        output.unlink(missing_ok=True)


def discard_leftovers(output: Path) -> None:
    """Remove staging directories and outputs set aside that crashed runs left behind."""
    if not output.parent.is_dir():
        return
    for leftover in output.parent.glob(f".{output.name}.*"):
        if leftover.name.endswith((_STAGING_SUFFIX, _ASIDE_SUFFIX)):
            remove_output(leftover)
