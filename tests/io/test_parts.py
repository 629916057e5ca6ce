"""A window's Parquet output written in parts reads back as the same rows written whole."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn.datasets import load_breast_cancer

from shipml.io import ParquetSink
from shipml.io.parts import (
    align_part,
    commit_parts,
    parts_target,
    parts_to_align,
    write_part,
)
from shipml.windows import Window

WINDOW = Window(datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 2, 10, 15, tzinfo=UTC))


def scored_rows() -> pd.DataFrame:
    """Breast-cancer rows with a diagnosis label and a count that is missing in one row."""
    data = load_breast_cancer(as_frame=True)
    frame = data.data[["mean radius", "mean texture"]].copy()
    frame["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    frame["reviews"] = pd.array(np.arange(len(frame)) % 3, dtype="int64").astype(object)
    frame.loc[500, "reviews"] = None
    return frame


def write_in_parts(sink: ParquetSink, frame: pd.DataFrame, cuts: list[int], run_id: str) -> str:
    """`frame` written as parts cut at `cuts` (typed per part, as a worker types its rows)."""
    target = parts_target(sink, "cancer", WINDOW, run_id, {"model_version": "3"})
    bounds = [0, *cuts, len(frame)]
    written = []
    for index, (start, stop) in enumerate(itertools.pairwise(bounds)):
        part = frame.iloc[start:stop].infer_objects()  # int64 without the null, else float64
        written.append(write_part(target, index, part))
    differ, schema = parts_to_align(written)
    assert schema is not None
    for part in differ:
        align_part(part, schema)
    return commit_parts(target, written)


def test_parts_read_back_as_the_rows_written_whole(tmp_path: Path) -> None:
    rows = scored_rows()
    whole_sink, parts_sink = ParquetSink(path=tmp_path / "whole"), ParquetSink(path=tmp_path)
    whole = whole_sink.write(
        rows.infer_objects().assign(model_version="3"), pipeline="cancer", window=WINDOW,
        run_id="r1",
    )  # fmt: skip

    location = write_in_parts(parts_sink, rows, [200, 200, 450], run_id="r1")

    assert Path(location).is_dir() and len(list(Path(location).iterdir())) == 3  # empty dropped
    pd.testing.assert_frame_equal(pd.read_parquet(location), pd.read_parquet(whole))
    metadata = pq.read_schema(next(Path(location).iterdir())).metadata
    assert metadata[b"shipml.run_id"] == b"r1"


def test_outputs_in_parts_and_whole_files_replace_each_other(tmp_path: Path) -> None:
    sink = ParquetSink(path=tmp_path)
    rows = scored_rows().infer_objects()
    output = sink.location("cancer", WINDOW)

    sink.write(rows, pipeline="cancer", window=WINDOW, run_id="r1")
    write_in_parts(sink, rows, [100], run_id="r2")
    assert output.is_dir() and sink.exists("cancer", WINDOW)
    assert set(pd.read_parquet(output)["run_id"]) == {"r2"}

    sink.write(rows.head(5), pipeline="cancer", window=WINDOW, run_id="r3")
    assert output.is_file() and len(pd.read_parquet(output)) == 5
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]


def test_what_a_crashed_run_left_is_removed_by_the_next(tmp_path: Path) -> None:
    sink = ParquetSink(path=tmp_path)
    output = sink.location("cancer", WINDOW)
    crashed = parts_target(sink, "cancer", WINDOW, "r1", {})
    write_part(crashed, 0, scored_rows().head(3))
    aside = output.with_name(f".{output.name}.r0.parts.old")
    aside.mkdir()

    write_in_parts(sink, scored_rows(), [300], run_id="r2")

    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]
    assert not Path(crashed.directory).exists()
