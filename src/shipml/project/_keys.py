"""Prediction keys as one text per row, and a logged window's predictions joined to its labels.

Keys compare by value: a key column that is a time in the predictions is read as a time
(UTC) in the labels, any other column as text.
"""

from __future__ import annotations

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
    """The labels of `logged` (as text) and the predictions of `frame` that have one, aligned.

    `frame` is the window's logged predictions, or the challenger's of the same rows.
    """
    if not logged.labels_path.is_file():
        return pd.Series(dtype="str"), frame.iloc[:0]
    labels = pd.read_parquet(logged.labels_path).drop_duplicates(KEY, keep="first")
    keyed = frame.assign(**{KEY: canonical_keys(frame, keys, frame)})
    joined = keyed.merge(labels[[KEY, LABEL]], on=KEY, how="inner")
    truth = joined[LABEL]
    return truth, joined.drop(columns=[KEY, LABEL])
