"""read_table: good files come back as frames, unusable ones as one clear line."""

from __future__ import annotations

import gzip
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel, Field

from shipml.contracts import UnusableInput
from shipml.contracts.reading import (
    available_memory,
    default_max_bytes,
    read_table,
    text_columns_of,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path: Path, **options: object) -> str:
    """The one-line message read_table refuses `path` with."""
    with pytest.raises(UnusableInput) as caught:
        read_table(path, **options)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- files that read ---------------------------------------------------------------------


def test_csv_reads_with_inferred_types(tmp_path: Path) -> None:
    path = write(tmp_path / "readings.csv", "machine,temp,count,ok\nm1,20.5,3,true\nm2,,4,false\n")
    frame = read_table(path)
    assert frame["machine"].tolist() == ["m1", "m2"]
    assert frame["temp"].iloc[0] == 20.5 and pd.isna(frame["temp"].iloc[1])
    assert frame["count"].dtype == "int64"
    assert frame["ok"].tolist() == [True, False]


def test_tsv_and_upper_case_suffix(tmp_path: Path) -> None:
    assert read_table(write(tmp_path / "a.tsv", "x\ty\n1\t2\n")).columns.tolist() == ["x", "y"]
    assert read_table(write(tmp_path / "B.CSV", "x,y\n1,2\n"))["y"].tolist() == [2]


def test_a_column_turning_to_text_late_in_a_big_file_is_all_text(tmp_path: Path) -> None:
    rows = "".join(f"{i},x\n" for i in range(300_000))  # more than one parsing chunk
    path = write(tmp_path / "late_text.csv", "code,tag\n" + rows + "n/a-7,y\n")
    codes = read_table(path)["code"]
    assert isinstance(codes.dtype, pd.StringDtype)
    assert codes.iloc[0] == "0" and codes.iloc[-1] == "n/a-7"


def test_explicit_delimiter_reads_a_semicolon_file(tmp_path: Path) -> None:
    path = write(tmp_path / "eu.csv", "a;b\n1;2,5\n")
    assert read_table(path, delimiter=";")["b"].tolist() == ["2,5"]


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_round_trip(tmp_path: Path, suffix: str) -> None:
    original = pd.DataFrame({"id": [1, 2], "ts": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    path = tmp_path / f"data{suffix}"
    original.to_parquet(path)
    pd.testing.assert_frame_equal(read_table(path), original)


def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert read_table(path).columns.tolist() == ["a", "b"]


def test_text_columns_stay_text(tmp_path: Path) -> None:
    path = write(tmp_path / "zips.csv", "zip,count\n01234,7\n")
    frame = read_table(path, text_columns=["zip", "not_in_file"])
    assert frame["zip"].tolist() == ["01234"]
    assert frame["count"].tolist() == [7]
    assert read_table(path)["zip"].tolist() == [1234]


def test_text_columns_of_a_model() -> None:
    class Color(StrEnum):
        red = "red"

    class Row(BaseModel):
        name: str
        note: str | None
        code: Annotated[str, Field(min_length=2)]
        mode: Literal["a", "b"]
        color: Color
        alias: str = Field(alias="Alias Column")
        count: int
        level: Literal[1, 2]

    assert text_columns_of(Row) == ["name", "note", "code", "mode", "color", "Alias Column"]


def test_encoding_option_reads_latin1(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("city\nCréteil\n".encode("latin-1"))
    assert read_table(path, encoding="latin-1")["city"].tolist() == ["Créteil"]


def test_utf16_reads_when_told(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes("a,b\n1,2\n".encode("utf-16"))
    assert "looks UTF-16 encoded" in refusal(path)
    assert read_table(path, encoding="utf-16")["b"].tolist() == [2]


def test_header_only_is_an_empty_frame_when_allowed(tmp_path: Path) -> None:
    frame = read_table(write(tmp_path / "h.csv", "a,b\n"), allow_empty=True)
    assert frame.columns.tolist() == ["a", "b"] and len(frame) == 0


# --- unusable input ----------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert refusal(tmp_path / "nope.csv") == f"{tmp_path / 'nope.csv'}: no such file"


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "data.csv"
    folder.mkdir()
    assert "is a directory" in refusal(folder)


def test_empty_file(tmp_path: Path) -> None:
    assert refusal(write(tmp_path / "e.csv", "")).endswith("e.csv is empty")


def test_blank_lines_only(tmp_path: Path) -> None:
    assert "is empty (no header line)" in refusal(write(tmp_path / "blank.csv", "\n\n  \n"))


def test_header_only(tmp_path: Path) -> None:
    assert refusal(write(tmp_path / "h.csv", "a,b\n")).endswith("has a header but no rows")


def test_parquet_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pd.DataFrame({"a": pd.Series([], dtype="int64")}).to_parquet(path)
    assert refusal(path).endswith("has columns but no rows")


def test_semicolon_file_read_as_csv(tmp_path: Path) -> None:
    message = refusal(write(tmp_path / "eu.csv", "id;price;name\n1;2,5;x\n"))
    assert "looks ;-delimited" in message
    assert "delimiter=';'" in message


def test_tab_file_read_as_csv(tmp_path: Path) -> None:
    assert "looks tab-delimited" in refusal(write(tmp_path / "t.csv", "a\tb\n1\t2\n"))


def test_comma_file_read_as_tsv(tmp_path: Path) -> None:
    path = write(tmp_path / "c.tsv", "a,b\n1,2\n")
    assert "looks ,-delimited, not tab-delimited" in refusal(path)


def test_non_utf8_byte_far_into_the_file(tmp_path: Path) -> None:
    rows = b"".join(b"%d,hello\n" % i for i in range(20_000))  # past the inspected start
    data = b"id,word\n" + rows + b"20000,caf\xe9\n"
    path = tmp_path / "late.csv"
    path.write_bytes(data)
    offset = data.index(b"\xe9")
    line = data.count(b"\n", 0, offset) + 1
    message = refusal(path)
    assert f"byte 0xe9 at offset {offset} (line {line})" in message
    assert "encoding='latin-1'" in message


def test_non_utf8_byte_in_the_header(tmp_path: Path) -> None:
    path = tmp_path / "early.csv"
    path.write_bytes(b"id,caf\xe9\n1,2\n")
    assert "byte 0xe9 at offset 6 (line 1)" in refusal(path)


def test_duplicate_column_names(tmp_path: Path) -> None:
    message = refusal(write(tmp_path / "dup.csv", "a,b,a,c,b\n1,2,3,4,5\n"))
    assert message.endswith("duplicate column names: 'a' (columns 1 and 3), 'b' (columns 2 and 5)")


def test_duplicate_column_names_in_parquet(tmp_path: Path) -> None:
    path = tmp_path / "dup.parquet"
    pq.write_table(pa.table([[1], [2]], names=["a", "a"]), path)
    assert "duplicate column names: 'a'" in refusal(path)


@pytest.mark.timeout(20)
def test_ten_million_character_cell(tmp_path: Path) -> None:
    path = write(tmp_path / "huge.csv", "id,note\n1,short\n2," + "x" * 10_000_000 + "\n3,end\n")
    message = refusal(path)
    assert "column 'note' holds a 10,000,000-character value at row 1" in message
    assert "limit of 1,000,000" in message
    assert read_table(path, max_cell_chars=10_000_000)["note"].str.len().max() == 10_000_000


def test_unclosed_quote(tmp_path: Path) -> None:
    path = write(tmp_path / "quote.csv", 'a,b\n1,"open\n2,x\n3,y\n')
    assert "EOF inside string starting at row 1 (an unclosed quote?)" in refusal(path)


def test_ragged_row(tmp_path: Path) -> None:
    path = write(tmp_path / "ragged.csv", "a,b\n1,2\n3,4,5\n")
    assert refusal(path).endswith("is not valid CSV: Expected 2 fields in line 3, saw 3")


def test_csv_above_the_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path / "big.csv", "a,b\n" + "1,2\n" * 1000)
    message = refusal(path, max_bytes=1024)
    assert "is 3.9 KB, above the read limit of 1.0 KB" in message
    assert "--max-bytes" in message
    assert len(read_table(path, max_bytes=1024 * 1024)) == 1000


def test_parquet_above_the_size_limit_counts_decoded_bytes(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    pd.DataFrame({"a": [0] * 100_000}).to_parquet(path)  # compresses to almost nothing
    assert path.stat().st_size < 10_000
    message = refusal(path, max_bytes=10_000)
    assert "holds about 781.2 KB, above the read limit of 9.8 KB" in message  # 8 bytes a value


def test_default_limit_is_a_quarter_of_available_memory() -> None:
    available = available_memory()
    assert available is not None and available > 0
    assert default_max_bytes() == available // 4


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"this is not parquet at all")
    assert "is not a readable Parquet file" in refusal(path)


def test_truncated_parquet(tmp_path: Path) -> None:
    whole = tmp_path / "whole.parquet"
    pd.DataFrame({"a": range(1000)}).to_parquet(whole)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert "is not a readable Parquet file" in refusal(cut)


def test_unknown_suffix(tmp_path: Path) -> None:
    message = refusal(write(tmp_path / "sheet.xlsx", "x"))
    assert message.endswith("unsupported file type '.xlsx'; shipml reads .csv, .tsv, .parquet, .pq")


def test_binary_file_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "blob.csv"
    path.write_bytes(bytes(range(256)) * 64)
    assert refusal(path).endswith("looks like a binary file, not CSV text")


def test_parquet_file_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "really.csv"
    pd.DataFrame({"a": [1]}).to_parquet(path)
    assert refusal(path).endswith("is a Parquet file: name it .parquet")


def test_gzip_file_named_csv(tmp_path: Path) -> None:
    path = tmp_path / "packed.csv"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    assert refusal(path).endswith("is gzip-compressed: decompress it first")


def test_delimiter_of_several_characters(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "a::b\n1::2\n")
    assert refusal(path, delimiter="::") == "the delimiter must be one character, not '::'"


def test_unknown_encoding(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "a\n1\n")
    assert refusal(path, encoding="klingon") == "unknown encoding 'klingon'"
