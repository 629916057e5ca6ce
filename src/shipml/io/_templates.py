"""Path templates of window files: which times a name tells apart, and which files a window reads.

A template like `data/{start:%Y%m%dT%H}.csv` names one file per hour: its *resolution*. A
window reads every file whose name falls in [start, end): with hourly names, a 1h window reads
one file and a 2h window two. Windows finer than the names (15-minute windows over hourly
names) would read the same file several times, and windows that start inside a file's period
would read part of another window's data: both are refused when the settings are loaded,
unless the source cuts its files by a time column.
"""

from __future__ import annotations

import itertools
import math
import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shipml.windows import Cadence, Window, describe_cadence, next_windows

FIELDS = ("start", "end")
MAX_NAMES_PER_WINDOW = 100_000

# What each strftime code names. Codes whose value is the same for every window bound
# (%f, %z, %Z: bounds are whole seconds in UTC) name nothing.
_NAMES: dict[str, frozenset[str]] = {
    code: frozenset(parts.split())
    for code, parts in {
        "Y": "year",
        "y": "year",
        "G": "isoyear",
        "m": "month",
        "b": "month",
        "B": "month",
        "d": "day",
        "j": "doy",
        "U": "week",
        "W": "week",
        "V": "isoweek",
        "a": "weekday",
        "A": "weekday",
        "w": "weekday",
        "u": "weekday",
        "H": "hour",
        "I": "hour12",
        "p": "ampm",
        "M": "minute",
        "S": "second",
        "F": "year month day",
        "D": "month day year",
        "T": "hour minute second",
        "R": "hour minute",
        "f": "",
        "z": "",
        "Z": "",
        "%": "",
    }.items()
}
_REFUSED = {
    "c": "depends on the locale",
    "x": "depends on the locale",
    "X": "depends on the locale",
    "s": "counts seconds in the machine's local time zone, not UTC",
}
_FLAGS = "-_0^#"
_RANK = {"year": 0, "month": 1, "week": 2, "day": 3, "hour": 4, "minute": 5, "second": 6}
_FACT_RANK = {
    "year": 0,
    "isoyear": 0,
    "month": 1,
    "week": 2,
    "isoweek": 2,
    "day": 3,
    "doy": 3,
    "weekday": 3,
    "hour": 4,
    "hour12": 4,
    "ampm": 4,
    "minute": 5,
    "second": 6,
}
# What a template lacks when it names something finer than its resolution, and which windows
# would then share a file: by the rank of the resolution (-1: not even the year).
_MISSING = {
    -1: ("the year", "in different years"),
    0: ("the month and day", "on different days"),
    1: ("the day", "on different days"),
    2: ("the day of the week", "on different days"),
    3: ("the hour", "in different hours"),
    4: ("the minute", "in different minutes"),
    5: ("the second", "in different seconds"),
}
_STEP = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_CALENDAR_STEP = timedelta(days=1)  # weeks, months and years are walked a day at a time
_SAMPLE_WINDOWS = 64
# Where sample windows are taken to check a template against the schedule: a year's end
# (month, week and year boundaries together) and a leap day.
_SAMPLE_ANCHORS = (
    datetime.fromisoformat("2026-12-31T12:00Z"),
    datetime.fromisoformat("2028-02-28T12:00Z"),
)
_TEMPLATE_EXAMPLE = "{start:%Y%m%dT%H%M}"
_SECOND = timedelta(seconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PathTemplate:
    """A path with `{start}`/`{end}` placeholders, and how finely its names tell times apart."""

    text: str
    uses_end: bool
    resolution: str  # "second", "minute", "hour", "day", "week", "month" or "year"

    @classmethod
    def parse(cls, text: str) -> PathTemplate | None:
        """The template in `text` (None when it has no placeholder); ValueError when unusable."""
        placeholders = _placeholders(text)
        if not placeholders:
            return None
        by_field = {
            name: [spec for field, spec in placeholders if field == name] for name in FIELDS
        }
        identifying = by_field["start"] or by_field["end"]
        facts = set().union(*(_facts(spec, text) for spec in identifying))
        return cls(text, bool(by_field["end"]), _resolution(facts, text))

    @property
    def step(self) -> timedelta:
        """How far apart the times are at which new names are looked for inside a window."""
        return _STEP.get(self.resolution, _CALENDAR_STEP)

    def name(self, start: datetime, end: datetime) -> str:
        """The path of the file for the window [start, end)."""
        return self.text.format(start=start, end=end)

    def names_in(self, window: Window) -> list[tuple[datetime, str]]:
        """Each distinct file name whose period overlaps `window`, with the time it starts.

        Names are looked for at every step of the template's resolution, from the step that
        holds the window's start. With `{end}` in the template, a name gives both bounds of
        a window: only the window's own file is its.
        """
        if self.uses_end:
            return [(window.start, self.name(window.start, window.end))]
        found: dict[str, datetime] = {}
        moment = _EPOCH + (window.start - _EPOCH) // self.step * self.step
        while moment < window.end:
            found.setdefault(self.name(moment, moment), moment)
            moment += self.step
        return [(moment, name) for name, moment in found.items()]

    def check_schedule(self, cadence: Cadence, *, cut_by_time: bool) -> None:
        """Raise ValueError unless each window of `cadence` reads exactly its own files."""
        samples = [
            window
            for anchor in _SAMPLE_ANCHORS
            for window in next_windows(cadence, anchor, _SAMPLE_WINDOWS)
        ]
        if not samples:
            return
        longest = max(window.end - window.start for window in samples)
        looked_for = math.ceil(longest / self.step)
        if not self.uses_end and looked_for > MAX_NAMES_PER_WINDOW:
            raise ValueError(
                f"{self.text!r} names one file per {self.resolution}: a window of "
                f"{describe_cadence(cadence)} would look for {looked_for:,} file names; "
                "name files more coarsely"
            )
        if cut_by_time:
            return
        for earlier, later in itertools.pairwise(samples):
            if earlier.end != later.start:
                continue  # samples from two anchors
            shared = self._shared_file(earlier, later)
            if shared is not None:
                raise ValueError(
                    f"{self.text!r} names one file per {self.resolution} but windows are "
                    f"{describe_cadence(cadence)}: windows {earlier} and {later} would both read "
                    f"{shared}; name files at least as finely as the windows (e.g. "
                    f"{_TEMPLATE_EXAMPLE}), or set time_column to cut each file to its window"
                )

    def _shared_file(self, earlier: Window, later: Window) -> str | None:
        """A file both windows would read, if any."""
        if self.uses_end:
            name = self.name(later.start, later.end)
            return name if name == self.name(earlier.start, earlier.end) else None
        before = later.start - _SECOND
        name = self.name(later.start, later.start)
        return name if name == self.name(before, before) else None


def placeholder_fields(text: str) -> set[str]:
    """The placeholder names in a path template: {'start', 'end'} for '{start:%Y}-{end}'."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as error:
        raise ValueError(f"not a valid path template: {error}, got {text!r}") from None
    return {name for _, name, _, _ in parts if name is not None}


def check_time_format(text: str) -> str:
    """`text` if it is a strftime format shipml can parse times with; else ValueError."""
    if not _facts(text, text, what="time_format"):
        raise ValueError(f"expected a strftime format like '%d/%m/%Y %H:%M', got {text!r}")
    return text


def _placeholders(text: str) -> list[tuple[str, str]]:
    """(field, format spec) of each placeholder; ValueError for anything but {start}/{end}."""
    unknown = placeholder_fields(text) - set(FIELDS)
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {sorted(unknown)} in {text!r}; "
            "only {start} and {end} (with an optional strftime format) are allowed"
        )
    found = []
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if conversion or "{" in (spec or ""):
            raise ValueError(
                f"{text!r}: write a placeholder as {{{name}}} or {{{name}:FORMAT}} with a "
                "strftime format, without !conversion or nested braces"
            )
        found.append((name, spec or ""))
    return found


def _facts(spec: str, text: str, what: str = "template") -> set[str]:
    """What a format spec names ('year', 'hour', ...); an empty spec is the full ISO time."""
    if not spec:
        return {"year", "month", "day", "hour", "minute", "second"}
    facts: set[str] = set()
    for match in re.finditer(r"%([" + re.escape(_FLAGS) + r"]?)(.?)", spec):
        code = match.group(2)
        if code in _REFUSED:
            raise ValueError(f"%{code} in {what} {text!r} {_REFUSED[code]}; use e.g. %Y%m%dT%H%M")
        if code not in _NAMES:
            shown = f"%{match.group(1)}{code}" if code else "a lone %"
            raise ValueError(
                f"{shown} in {what} {text!r} is not a strftime code; use codes like %Y %m %d "
                "%H %M %S (%% for a literal %)"
            )
        facts |= _NAMES[code]
    if not facts and what == "template":
        raise ValueError(
            f"{{...:{spec}}} in {text!r} names no date or time; use e.g. {_TEMPLATE_EXAMPLE}"
        )
    return facts


def _resolution(facts: set[str], text: str) -> str:
    """The finest time unit the names tell apart; ValueError when names would repeat."""
    year = "year" in facts or {"isoyear", "isoweek"} <= facts
    month = year and "month" in facts
    week = ("year" in facts and "week" in facts) or {"isoyear", "isoweek"} <= facts
    day = ("year" in facts and ({"month", "day"} <= facts or "doy" in facts)) or (
        week and "weekday" in facts
    )
    hour = day and ("hour" in facts or {"hour12", "ampm"} <= facts)
    minute = hour and "minute" in facts
    second = minute and "second" in facts
    known = [
        unit
        for unit, told in (
            ("second", second),
            ("minute", minute),
            ("hour", hour),
            ("day", day),
            ("week", week),
            ("month", month),
            ("year", year),
        )
        if told
    ]
    resolution = known[0] if known else None
    rank = -1 if resolution is None else _RANK[resolution]
    finer = [fact for fact in facts if _FACT_RANK[fact] > rank]
    if resolution is None or finer:
        missing, apart = _MISSING[rank]
        raise ValueError(
            f"{text!r} does not name {missing}: windows {apart} could read the same file; "
            f"name the full time, e.g. {_TEMPLATE_EXAMPLE}"
        )
    return resolution
