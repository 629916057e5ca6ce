"""Recognise dates in a declared format while inferring a contract: strings and epoch numbers."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from shipml.contracts._parse_dates import describe, has_time, parse_distinct

_GUESSED_VALUES = 20  # values pandas guesses a format from (spread over the column)
_TIME_WORDS = {"ts", "time", "timestamp", "date", "datetime", "epoch", "unix", "utc"}
_TIME_WORDS |= {"created", "updated", "modified", "at", "when", "on", "seen", "sent"}
# plausible epoch values: 1973-03-03 to 2103-01-01 (1e8 s .. 4.2e9 s)
_EPOCH_SECONDS = (1e8, 4.2e9)
_EPOCH_RANGES = {"epoch_s": _EPOCH_SECONDS, "epoch_ms": tuple(v * 1e3 for v in _EPOCH_SECONDS)}


@dataclass(frozen=True)
class GuessedFormat:
    """A strftime format that reads every value of a column, and what to say about it."""

    format: str
    has_time: bool
    note: str = ""


def format_of_dates(distinct: pd.Series) -> GuessedFormat | None:
    """The format every string of `distinct` is a date in, or None.

    Candidates are pandas' guesses (month first, then day first) on a few values spread over
    the column; the first that reads every value wins. A full date is required (year, month
    and day), so numbers or codes are not taken for dates.
    """
    texts = np.asarray(distinct.tolist(), dtype=object)
    if not len(texts):
        return None
    spread = texts[np.linspace(0, len(texts) - 1, min(len(texts), _GUESSED_VALUES)).astype(int)]
    candidates: list[str] = []
    for text in spread:
        for dayfirst in (False, True):
            guess = _guess(str(text), dayfirst)
            if guess is not None and _full_date(guess) and guess not in candidates:
                candidates.append(guess)
    readers = [fmt for fmt in candidates if parse_distinct(texts, (fmt,))[1].all()]
    if not readers:
        return None
    chosen = readers[0]
    swapped = _swap_day_and_month(chosen)
    if swapped not in readers:
        return GuessedFormat(chosen, has_time(chosen))
    if "." in chosen and chosen.index("%m") < chosen.index("%d"):
        chosen, swapped = swapped, chosen  # dotted dates are written day first
    note = f"ambiguous, no day is above 12: {describe(swapped)} reads every value too"
    return GuessedFormat(chosen, has_time(chosen), note)


def _guess(text: str, dayfirst: bool) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns when the order contradicts `dayfirst`
        return guess_datetime_format(text, dayfirst=dayfirst)


def _full_date(fmt: str) -> bool:
    """Whether the format reads a year, a month and a day."""
    directives = set(re.findall(r"%(.)", fmt))
    return bool(directives & {"Y", "y"} and directives & {"m", "b", "B"} and "d" in directives)


def _swap_day_and_month(fmt: str) -> str:
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def epoch_unit(name: str, present: pd.Series) -> str | None:
    """`epoch_s` or `epoch_ms` for whole numbers of plausible epoch times in a time-named column."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().split("_")
    if not _TIME_WORDS & set(words) or present.empty:
        return None
    values = present.to_numpy(dtype=np.float64, na_value=np.nan)
    if not (np.isfinite(values).all() and (values == np.trunc(values)).all()):
        return None
    low, high = float(values.min()), float(values.max())
    for unit, (first, last) in _EPOCH_RANGES.items():
        if first <= low and high <= last:
            return unit
    return None
