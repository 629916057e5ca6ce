"""The prediction log: every prediction kept with its key, so that labels can meet it later.

Stored as Parquet by window under `<project>/.shipml/predictions/<pipeline>/`:
`batch/<window key>.parquet` for a batch window (replaced when the window runs again) and
`online/<flush start>.parquet` for each flush of an online window's predictions. A batch
window scored on Dask is logged as a directory of parts, `batch/<window key>.parquet/`, each
worker writing its partition's (staged and committed whole as Dask outputs are,
`shipml.io.parts`); a reader reads either the same way. Why Parquet
and not the run store: predictions are row-level data, a million a day or more; the run
store keeps per-window summaries (profiles, counts, alerts) and would grow by one database
row per prediction, while a window's predictions are written once, read by window range,
and dropped whole by retention, which is what a columnar file per window is good at.

Each file holds the key columns, the predict step's output columns, and `_window_start`,
`_window_end`, `_model_version`, `_run_id` (and `_request_id` online). Files are written
atomically (a temporary file renamed over), so a reader never sees half a window. The labels
joined to a window are kept apart, in one file per window under `.shipml/labels/`, whether the
window's log is a file or a directory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from shipml.errors import LabelsError
from shipml.io import PREDICTION_ID, LabelsSettings, remove_output, replace_output
from shipml.windows import Window

LogKind = Literal["batch", "online"]
WINDOW_START = "_window_start"
WINDOW_END = "_window_end"
MODEL_VERSION = "_model_version"
RUN_ID = "_run_id"
REQUEST_ID = "_request_id"
META_COLUMNS = (WINDOW_START, WINDOW_END, MODEL_VERSION, RUN_ID, REQUEST_ID)
CHALLENGER_SUFFIX = (
    ".challenger"  # the challenger's log beside the champion's: <pipeline>.challenger
)
_LOG_DIR = Path(".shipml") / "predictions"
_SECOND = timedelta(seconds=1)
IdMaker = Callable[[Window, pd.Index], pd.Series]


@dataclass(frozen=True)
class LoggedWindow:
    """One file (or directory of parts) of the prediction log: a batch window or an online flush."""

    kind: LogKind
    name: str  # the file's stem: the window's key
    path: Path

    def read(self) -> pd.DataFrame:
        """The window's logged predictions."""
        return pd.read_parquet(self.path)

    @property
    def labels_path(self) -> Path:
        """Where the labels joined to this window's predictions are kept."""
        return (
            self.path.parents[3]
            / "labels"
            / self.path.parent.parent.name
            / self.kind
            / (self.path.name)
        )


def challenger_window(logged: LoggedWindow) -> LoggedWindow | None:
    """The challenger's predictions of the same window (its log under `<pipeline>.challenger`),
    or None when the challenger did not score it."""
    pipeline = logged.path.parents[1].name
    path = (
        logged.path.parents[2] / f"{pipeline}{CHALLENGER_SUFFIX}" / logged.kind / logged.path.name
    )
    return LoggedWindow(logged.kind, logged.name, path) if path.exists() else None


def log_directory(root: Path, pipeline: str) -> Path:
    """The prediction log of `pipeline` in the project at `root`."""
    return root / _LOG_DIR / pipeline


def generated_ids(window: Window, index: pd.Index) -> pd.Series:
    """`prediction_id`s for rows of `window` with this index: '<window key>-<index label>'."""
    return pd.Series([f"{window.key}-{label}" for label in index], index=index, dtype="str")


def row_labels(window: Window, index: pd.Index) -> pd.Series:
    """The rows' labels themselves: what a partition keeps until its generated ids are known."""
    return pd.Series(index, index=index)


def window_labels(labels: pd.Index, offset: int) -> pd.Index:
    """A partition's row labels as the window's: shifted by where its rows start (if numbers)."""
    return labels + offset if pd.api.types.is_integer_dtype(labels.dtype) else labels


def keyed_predictions(
    predictions: pd.DataFrame,
    features: pd.DataFrame | None,
    settings: LabelsSettings,
    window: Window,
    ids: IdMaker = generated_ids,
) -> pd.DataFrame:
    """The predict step's output with the key columns: its own, else the features' (by index).

    With no `[labels] key`, a generated `prediction_id` is added (made by `ids`).
    """
    frame = predictions.copy()
    if settings.generated_key:
        frame[PREDICTION_ID] = ids(window, frame.index)
        return frame
    missing = [c for c in settings.key if c not in frame.columns]
    if missing and features is not None:
        usable = [c for c in missing if c in features.columns]
        for column in usable:
            frame[column] = features[column].reindex(frame.index)
        missing = [c for c in missing if c not in usable]
    if missing:
        raise LabelsError(
            f"[labels] key column {', '.join(map(repr, missing))} is neither in the predict "
            "step's output nor in its input; add it to the contract, or change the key"
        )
    return frame


@dataclass(frozen=True)
class WindowLog:
    """Where and how one run of a batch window logs its predictions."""

    location: Path  # batch/<window key>.parquet: a file, or a directory of parts
    settings: LabelsSettings
    window: Window
    model_version: str
    run_id: str

    @classmethod
    def of(
        cls,
        root: Path,
        pipeline: str,
        settings: LabelsSettings,
        window: Window,
        *,
        model_version: str,
        run_id: str,
    ) -> WindowLog:
        """The log of `window` of `pipeline` in the project at `root`."""
        location = log_directory(root, pipeline) / "batch" / f"{window.key}.parquet"
        return cls(location, settings, window, model_version, run_id)

    @property
    def id_column(self) -> str | None:
        """The column of generated ids that the window's output carries too (None: a key)."""
        return PREDICTION_ID if self.settings.generated_key else None

    @property
    def columns(self) -> dict[str, Any]:
        """What every logged row gets: the window, the model version and the run."""
        return log_columns(self.window, self.model_version, self.run_id)

    def keyed(
        self, predictions: pd.DataFrame, features: pd.DataFrame | None, ids: IdMaker = generated_ids
    ) -> pd.DataFrame:
        """The predictions with their key, as `keyed_predictions` gives them."""
        return keyed_predictions(predictions, features, self.settings, self.window, ids)

    def write(self, keyed: pd.DataFrame) -> Path:
        """Write the window's keyed predictions as its log, atomically, replacing any earlier."""
        write_atomically(keyed.reset_index(drop=True).assign(**self.columns), self.location)
        return self.location


def log_columns(window: Window, model_version: str, run_id: str | None) -> dict[str, Any]:
    """The columns every logged prediction of a window gets, by name."""
    return {
        WINDOW_START: pd.Timestamp(window.start),
        WINDOW_END: pd.Timestamp(window.end),
        MODEL_VERSION: str(model_version),
        RUN_ID: run_id,
    }


def write_window_log(
    root: Path,
    pipeline: str,
    kind: LogKind,
    name: str,
    predictions: pd.DataFrame,
    *,
    window: Window,
    model_version: str,
    run_id: str | None,
) -> Path:
    """Write one window's keyed predictions to the log atomically; returns the file."""
    frame = predictions.reset_index(drop=True).assign(**log_columns(window, model_version, run_id))
    target = log_directory(root, pipeline) / kind / f"{name}.parquet"
    write_atomically(frame, target)
    return target


def write_atomically(frame: pd.DataFrame, target: Path) -> None:
    """Write `frame` as Parquet at `target` through a temporary file renamed over it (or put in
    the place of the directory of parts that `target` may be)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.stem}.", dir=target.parent)
    os.close(handle)
    try:
        frame.to_parquet(temporary, index=False)
        replace_output(Path(temporary), target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def logged_windows(
    root: Path, pipeline: str, kinds: Sequence[LogKind] = ("batch", "online")
) -> list[LoggedWindow]:
    """Every file (or directory of parts) of the log, batch then online, oldest name first."""
    found: list[LoggedWindow] = []
    for kind in kinds:
        directory = log_directory(root, pipeline) / kind
        if directory.is_dir():
            found += [
                LoggedWindow(kind, path.stem, path)
                for path in sorted(directory.glob("*.parquet"))
                if not path.name.startswith(".")  # staged, set aside, or being written
            ]
    return found


def purge(root: Path, pipeline: str, retention: timedelta, now: datetime | None = None) -> int:
    """Delete logged windows (and their labels) older than `retention`; the count deleted."""
    limit = (now or datetime.now(UTC)) - retention
    deleted = 0
    for logged in logged_windows(root, pipeline):
        if datetime.fromtimestamp(logged.path.stat().st_mtime, UTC) < limit:
            remove_output(logged.path)
            logged.labels_path.unlink(missing_ok=True)
            deleted += 1
    return deleted


def iter_frames(windows: Sequence[LoggedWindow]) -> Iterator[tuple[LoggedWindow, pd.DataFrame]]:
    """Each logged window with its predictions."""
    for logged in windows:
        yield logged, logged.read()


def online_frame(
    answered: Sequence[tuple[str, Sequence[Mapping[str, Any]]]], settings: LabelsSettings
) -> pd.DataFrame:
    """An online window's answered rows with their request ids (and generated ids,
    '<request id>-<row>', when no key is configured)."""
    # One frame for the whole window: a frame per request cost about 0.1 ms of CPU each,
    # taken from the server in the flushing thread.
    rows = [row for _, found in answered for row in found]
    together = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(index=range(0))
    together[REQUEST_ID] = [request_id for request_id, found in answered for _ in found]
    if settings.generated_key:
        together[PREDICTION_ID] = [
            f"{request_id}-{i}" for request_id, found in answered for i in range(len(found))
        ]
    missing = [c for c in settings.key_columns if c not in together.columns]
    if missing:
        raise LabelsError(
            f"[labels] key column {', '.join(map(repr, missing))} is not in the online output; "
            "add it to the output contract, or change the key"
        )
    return together


def online_log_window(start: datetime, end: datetime, version: str) -> tuple[str, Window]:
    """An online window's key in the prediction log, and its span in whole seconds."""
    name = f"{start:%Y%m%dT%H%M%S%fZ}-v{version}"
    return name, Window(start.replace(microsecond=0), end.replace(microsecond=0) + _SECOND)


def online_log_writer(root: Path, pipeline: str, settings: LabelsSettings) -> Callable[..., None]:
    """What the online monitor calls once per stored window: write its answered predictions.

    With `challenger` (the shadow's predictions of the window's requests), the file goes to
    the challenger's log under the champion window's name, with the challenger's version.
    """

    def write(
        model: Any,
        start: datetime,
        end: datetime,
        run_id: str,
        answered: Any,
        *,
        challenger: Any = None,
    ) -> None:
        frame = online_frame(answered, settings)
        for column in frame.columns:  # times as the batch log keeps them
            if column in settings.key and frame[column].dtype == object:
                parsed = pd.to_datetime(frame[column], utc=True, errors="coerce", format="ISO8601")
                if parsed.notna().all():
                    frame[column] = parsed
        name, window = online_log_window(start, end, str(model.version))
        answering = model if challenger is None else challenger
        write_window_log(
            root,
            pipeline if challenger is None else pipeline + CHALLENGER_SUFFIX,
            "online",
            name,
            frame,
            window=window,
            model_version=str(answering.version),
            run_id=run_id,
        )

    return write
