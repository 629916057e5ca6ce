"""Where the ground truth comes from, and how predictions are keyed to meet it: `[labels]`.

A label row carries the prediction's key and the true outcome. Its source is one of the
input sources (`FileSource`: files by path template or one file cut by a time column;
`SqlSource`: a query with `:start` and `:end`), read for the range `shipml labels ingest`
is given, as a batch window reads its own range.

- `key`: the columns that identify a prediction (in the predict step's output, or its
  input), e.g. `["machine_id", "ts"]`. Unset, every prediction gets a generated
  `prediction_id` (`<window key>-<row index>`), which the batch output carries too.
- `column`: the label column in the label rows (default: `[training] target`).
- `label_delay`: how long a label may take to arrive; a prediction still unlabelled that
  long after its window ended is counted as overdue.
- `min_labels`: a window with fewer labelled predictions is "not judged".
- `retention`: how long stored predictions (and their labels) are kept.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, field_validator

from shipml._settings import Duration, Section
from shipml.io.sources import FileSource, SourceSettings, SqlSource

PREDICTION_ID = "prediction_id"


class LabelsSettings(Section):
    """[labels]: the label source, the prediction key, the delay, the minimum and retention."""

    source: SourceSettings | None = None
    key: list[str] = Field(default_factory=list)
    column: str | None = None
    label_delay: Duration = timedelta(days=1)
    min_labels: int = Field(default=100, ge=1)
    retention: Duration = timedelta(days=90)

    @field_validator("key")
    @classmethod
    def _distinct_names(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or any(not name for name in value):
            raise ValueError(f"expected distinct, non-empty column names, got {value}")
        return value

    @property
    def key_columns(self) -> list[str]:
        """The key columns; `prediction_id` when none is configured."""
        return list(self.key) or [PREDICTION_ID]

    @property
    def generated_key(self) -> bool:
        """Whether predictions are keyed by a generated `prediction_id`."""
        return not self.key

    def label_source(self) -> FileSource | SqlSource | None:
        """The configured label source, if any."""
        return self.source

    def resolved(self, project_dir: Path) -> LabelsSettings:
        """A copy with the source's paths made absolute against `project_dir`."""
        if self.source is None:
            return self
        return self.model_copy(update={"source": self.source.resolved(project_dir)})
