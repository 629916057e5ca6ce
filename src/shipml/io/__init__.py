"""Where batch windows read their input (sources) and write their output (sinks).

Each kind is one settings model with `kind: Literal[...]` that also does the work: a
`[source]` table is a `FileSource` or a `SqlSource`, an `[output]` table a `ParquetSink` or
a `SqlSink`. A new kind is one class and one member of `SourceSettings` or `SinkSettings`.
"""

from shipml.io.sinks import ParquetSink, Sink, SinkSettings, SqlSink
from shipml.io.sources import FileSource, Source, SourceData, SourceSettings, SqlSource

__all__ = [
    "FileSource",
    "ParquetSink",
    "Sink",
    "SinkSettings",
    "Source",
    "SourceData",
    "SourceSettings",
    "SqlSink",
    "SqlSource",
]
