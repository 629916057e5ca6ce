"""Prediction keys as one text per row, and a logged window's predictions joined to its labels.

Keys compare by value: a key column that is a time in the predictions is read as a time
(UTC) in the labels, any other column as text.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from shipml.project.predictions import LoggedWindow

KEY = "_key"
LABEL = "_label"
_SEPARATOR = "\x1f"


def canonical_keys(
    frame: pd.DataFrame, keys: list[str], predictions: pd.DataFrame | None
) -> pd.Series:
    """One text per row: the key's values, times as UTC ISO 8601 when the predictions hold
    times in that column."""
    parts = []
    for key in keys:
        values = frame[key]
        as_time = predictions is not None and pd.api.types.is_datetime64_any_dtype(
            predictions[key].dtype
        )
        if as_time:
            times = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
            parts.append(times.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").where(times.notna()))
        else:
            parts.append(values.astype("str").where(values.notna()))
    joined = parts[0].astype("object")
    for part in parts[1:]:
        joined = joined + _SEPARATOR + part.astype("object")
    return joined.fillna("").astype("str")


def labelled_rows(
    logged: LoggedWindow, frame: pd.DataFrame, keys: list[str]
) -> tuple[pd.Series, pd.DataFrame]:
    """The window's labels (as text) and its predictions that have one, aligned."""
    return join_labels(window_labels([logged]), frame, keys)


def window_labels(windows: Sequence[LoggedWindow]) -> pd.DataFrame:
    """The labels joined to these windows' predictions (`KEY`, `LABEL`), each key once."""
    found = [pd.read_parquet(w.labels_path) for w in windows if w.labels_path.is_file()]
    if not found:
        return pd.DataFrame({KEY: pd.Series(dtype="str"), LABEL: pd.Series(dtype="str")})
    return pd.concat(found, ignore_index=True).drop_duplicates(KEY, keep="first")


def join_labels(
    labels: pd.DataFrame, frame: pd.DataFrame, keys: list[str]
) -> tuple[pd.Series, pd.DataFrame]:
    """The labels (as text) of the predictions of `frame` that have one, and those, aligned."""
    if labels.empty:
        return pd.Series(dtype="str"), frame.iloc[:0]
    keyed = frame.assign(**{KEY: canonical_keys(frame, keys, frame)})
    joined = keyed.merge(labels[[KEY, LABEL]], on=KEY, how="inner")
    truth = joined[LABEL]
    return truth, joined.drop(columns=[KEY, LABEL])
