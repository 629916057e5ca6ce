"""Where batch windows read their input (sources) and write their output (sinks).

Each kind is one settings model with `kind: Literal[...]` that also does the work: a
`[source]` table is a `FileSource` or a `SqlSource`, an `[output]` table a `ParquetSink` or
a `SqlSink`. A new kind is one class and one member of `SourceSettings` or `SinkSettings`.

A window too big for one process is read in partitions where it is processed
(`partitions`: Parquet row groups, CSV blocks, SQL time ranges) and its Parquet output
written in parts committed whole (`parts`); the Dask engine does both on its workers.
"""

from shipml.io.labels import PREDICTION_ID, LabelsSettings
from shipml.io.partitions import (
    DEFAULT_ROWS,
    Partition,
    PartitionPlan,
    PartitionRead,
    data_version,
    plan_partitions,
    read_partition,
    review_reads,
)
from shipml.io.parts import (
    PartsTarget,
    WrittenPart,
    align_part,
    commit_parts,
    common_schema,
    discard_parts,
    kept_parts,
    parts_target,
    parts_to_align,
    remove_output,
    replace_output,
    staged_parts,
    write_part,
)
from shipml.io.sinks import ParquetSink, Sink, SinkSettings, SqlSink
from shipml.io.sources import FileSource, Source, SourceData, SourceSettings, SqlSource

__all__ = [
    "DEFAULT_ROWS",
    "PREDICTION_ID",
    "FileSource",
    "LabelsSettings",
    "ParquetSink",
    "Partition",
    "PartitionPlan",
    "PartitionRead",
    "PartsTarget",
    "Sink",
    "SinkSettings",
    "Source",
    "SourceData",
    "SourceSettings",
    "SqlSink",
    "SqlSource",
    "WrittenPart",
    "align_part",
    "commit_parts",
    "common_schema",
    "data_version",
    "discard_parts",
    "kept_parts",
    "parts_target",
    "parts_to_align",
    "plan_partitions",
    "read_partition",
    "remove_output",
    "replace_output",
    "review_reads",
    "staged_parts",
    "write_part",
]
