"""Property: a declared format gives `strptime`'s verdicts and values, in both paths.

Random strings, most of them dates written in one of the declared formats (some in another
format, some mangled), are validated as one large frame (the columnar path) and row by row
as one-row frames (the small-frame path). A row is valid in either path exactly when
`datetime.strptime` reads it with one of the formats, and the valid frame holds the value
`strptime` gives with the first format that reads it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, create_model

from shipml.contracts import DateFormat, validate
from shipml.contracts._compile import compile_contract
from shipml.contracts._small import SMALL_FRAME_ROWS, check_small_frame

DATE_FORMATS = ["%Y/%m/%d", "%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%d-%b-%Y"]
DATE_FORMATS += ["%d %B %Y", "%y%m%d", "%a, %d %b %Y"]
TIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S.%f", "%I:%M %p %d/%m/%y"]
ZONE_FORMATS = ["%Y-%m-%dT%H:%M:%S%z", "%d/%m/%Y %H:%M %z"]
NOISE = ["", " ", "-", "/", "0", "13", "31", "2024", "T", "Z", "+02:00", "now", "NaT"]
NOISE += ["\u0663", "\u017fep"]  # an Arabic-Indic 3; "sep" with a long s


def reference(text: str, formats: tuple[str, ...]) -> datetime | None:
    """What `datetime.strptime` reads, with the first format that reads the text."""
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


@st.composite
def written_dates(draw: st.DrawFn, formats: tuple[str, ...], others: list[str]) -> str:
    """A date written in a declared format (or another), sometimes mangled."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30)))
    zone = timezone(timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60))))
    fmt = draw(st.sampled_from(formats) if draw(st.integers(0, 9)) else st.sampled_from(others))
    text = moment.replace(tzinfo=zone).strftime(fmt)
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        cut = draw(st.integers(0, len(text)))
        noise = draw(st.sampled_from(NOISE))
        text = text[:cut] + noise + text[cut + draw(st.integers(0, 1)) :]
    return text


@st.composite
def cases(draw: st.DrawFn) -> tuple[type[BaseModel], tuple[str, ...], str, pd.DataFrame]:
    """A model with one formatted field, its formats and kind, and a frame of strings."""
    kind = draw(st.sampled_from(["date", "datetime"]))
    pool = DATE_FORMATS if kind == "date" else DATE_FORMATS + TIME_FORMATS + ZONE_FORMATS
    formats = tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)))
    others = [f for f in DATE_FORMATS + TIME_FORMATS if f not in formats]
    field_type = date if kind == "date" else datetime
    model = create_model("Row", at=(Annotated[field_type, DateFormat(*formats)] | None, ...))
    rows = draw(st.integers(SMALL_FRAME_ROWS + 1, 90))
    texts = draw(
        st.lists(st.one_of(st.none(), written_dates(formats, others)), min_size=rows, max_size=rows)
    )
    return model, formats, kind, pd.DataFrame({"at": pd.Series(texts, dtype="str")})


def expected(text: Any, formats: tuple[str, ...], kind: str) -> tuple[bool, Any]:
    """(valid, value) by `strptime`, as the field of `kind` holds it."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return True, None
    value = reference(text, formats)
    if value is None:
        return False, None
    if kind == "date":
        if value.time() != datetime.min.time():
            return False, None
        return True, value.date()
    return True, value


def same_time(cell: Any, value: Any) -> bool:
    if value is None:
        return cell is None or pd.isna(cell)
    if isinstance(value, datetime):
        return pd.Timestamp(cell) == pd.Timestamp(value)
    return type(cell) is date and cell == value


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_both_paths_give_strptimes_verdicts_and_values(
    case: tuple[type[BaseModel], tuple[str, ...], str, pd.DataFrame],
) -> None:
    model, formats, kind, df = case
    contract = compile_contract(model)

    result = validate(df, model, policy="quarantine", max_invalid_fraction=1.0)

    valid_cells = result.valid["at"].to_dict()
    for position, text in enumerate(df["at"].tolist()):
        is_valid, value = expected(text, formats, kind)
        assert (position in valid_cells) is is_valid, (text, formats)
        if is_valid:
            assert same_time(valid_cells[position], value), (text, valid_cells[position], value)
        one_row = df.iloc[[position]].reset_index(drop=True)
        small = check_small_frame(one_row, contract)
        assert (small is not None) is is_valid, (text, formats)
        if small is not None:
            assert same_time(small.converted["at"].iloc[0], value), (text, formats)
