"""Batch windows: half-open [start, end) intervals in UTC, on an interval grid or a cron schedule.

An interval cadence ("15m") aligns windows to the epoch: 00:00, 00:15, ... A cron cadence
("*/15 * * * *") makes each window run from one fire time to the next.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from shipml.errors import WindowInputError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_AMERICAN_OR_DAY_FIRST = re.compile(r"^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")
_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_CRON_FIRST_LOOKBACK = timedelta(minutes=1)
_CRON_MAX_LOOKBACK = timedelta(days=366 * 8)  # "0 0 29 2 *" fires once in four years


@dataclass(frozen=True)
class Window:
    """A half-open batch window [start, end) with both bounds in UTC, to the whole second."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for bound in (self.start, self.end):
            if bound.tzinfo is None or bound.utcoffset() != timedelta(0):
                raise WindowInputError(f"window bounds must be UTC datetimes, got {bound!r}")
            if bound.microsecond:
                raise WindowInputError(f"window bounds must be whole seconds, got {bound}")
        if self.start >= self.end:
            raise WindowInputError(f"window start {self.start} is not before its end {self.end}")

    @property
    def key(self) -> str:
        """A filename-safe name for the window, from its start: '20261127T1015Z'."""
        pattern = "%Y%m%dT%H%M%SZ" if self.start.second else "%Y%m%dT%H%MZ"
        return self.start.strftime(pattern)

    def __str__(self) -> str:
        return f"[{_iso(self.start)}, {_iso(self.end)})"


@dataclass(frozen=True)
class Cron:
    """A five-field crontab schedule in a time zone: each window runs from one fire to the next."""

    expression: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        # Fail on a bad expression or time zone now, not at the first run; and on a schedule
        # that never fires ("0 0 30 2 *") or too rarely to find its last window.
        trigger = self.trigger()
        now = datetime.now(UTC)
        first = trigger.get_next_fire_time(None, now)
        second = None if first is None else trigger.get_next_fire_time(first, first)
        if second is None or second - now > _CRON_MAX_LOOKBACK:
            never = (
                "never fires (does the month have that day?)"
                if first is None
                else "fires less than twice in 8 years"
            )
            raise WindowInputError(
                f"the cron schedule {self.expression!r} {never}; "
                "windows need a schedule that fires regularly"
            )

    def trigger(self) -> CronTrigger:
        """The APScheduler trigger for this schedule."""
        try:
            return CronTrigger.from_crontab(
                _apscheduler_crontab(self.expression), timezone=parse_timezone(self.timezone)
            )
        except ValueError as error:
            raise WindowInputError(
                f"expected a crontab expression like '*/15 * * * *', got {self.expression!r} "
                f"({error})"
            ) from None


Cadence = timedelta | Cron


def parse_interval(text: str) -> timedelta:
    """A positive duration from text like '90s', '15m', '1h', '1d' (or '1h30m')."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not parts or _DURATION.sub("", compact).strip():
        raise WindowInputError(f"expected a duration like '15m' or '1h', got {text!r}")
    seconds = sum(int(amount) * _UNIT_SECONDS[unit] for amount, unit in parts)
    if seconds == 0:
        raise WindowInputError(f"expected a duration longer than zero, got {text!r}")
    return timedelta(seconds=seconds)


def parse_timezone(name: str) -> tzinfo:
    """The time zone named `name` ('UTC', 'Europe/Paris')."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise WindowInputError(
            f"expected an IANA time zone like 'UTC' or 'Europe/Paris', got {name!r}"
        ) from None


def parse_datetime(text: str) -> datetime:
    """A UTC datetime from ISO 8601 text ('2026-11-27', '2026-11-27T10:15Z'); naive means UTC."""
    if _AMERICAN_OR_DAY_FIRST.match(text):
        raise WindowInputError(
            f"{text!r} is ambiguous (month/day or day/month?); "
            "write dates as ISO 8601, e.g. 2026-11-27 or 2026-11-27T10:15Z"
        )
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise WindowInputError(
            f"expected an ISO 8601 date or date-time like 2026-11-27T10:15Z, got {text!r}"
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def latest_complete_window(cadence: Cadence, now: datetime | None = None) -> Window:
    """The most recent window that has fully ended at `now` (default: the current time)."""
    moment = _as_utc(now) if now is not None else datetime.now(UTC)
    if isinstance(cadence, Cron):
        previous, last = _last_two_fires(cadence, moment)
        return Window(previous, last)
    end = _floor(moment, cadence)
    return Window(end - cadence, end)


def next_windows(cadence: Cadence, after: datetime, count: int) -> list[Window]:
    """The first `count` consecutive windows of `cadence` that start at or after `after`."""
    moment = _as_utc(after)
    if isinstance(cadence, Cron):
        trigger = cadence.trigger()
        bounds: list[datetime] = []
        fire = trigger.get_next_fire_time(None, moment)
        while fire is not None and len(bounds) <= count:
            bounds.append(fire.astimezone(UTC))
            fire = trigger.get_next_fire_time(fire, fire)
    else:
        first = _floor(moment, cadence)
        first = first if first == moment else first + cadence
        bounds = [first + cadence * index for index in range(count + 1)]
    return [Window(lower, upper) for lower, upper in itertools.pairwise(bounds)]


def describe_cadence(cadence: Cadence) -> str:
    """'15m' or "cron '*/15 * * * *'": a cadence the way a user writes it."""
    if isinstance(cadence, Cron):
        return f"cron {cadence.expression!r}"
    return _describe(cadence)


def windows_between(start: datetime, end: datetime, cadence: Cadence) -> list[Window]:
    """The consecutive windows covering [start, end); both bounds must lie on the cadence."""
    first, last = _as_utc(start), _as_utc(end)
    if first >= last:
        raise WindowInputError(f"start {_iso(first)} is not before end {_iso(last)}")
    if isinstance(cadence, Cron):
        bounds = _fires_between(cadence, first, last)
    else:
        _require_aligned(first, cadence)
        _require_aligned(last, cadence)
        count = (last - first) // cadence
        bounds = [first + cadence * index for index in range(count + 1)]
    return [Window(lower, upper) for lower, upper in itertools.pairwise(bounds)]


def _apscheduler_crontab(expression: str) -> str:
    """`expression` with its day-of-week field as APScheduler 3 reads it.

    Cron counts weekdays from Sunday (0 or 7); APScheduler 3's `from_crontab` counts them
    from Monday, so "0 0 * * 1" would fire on Tuesdays. The days are spelled out by name.
    """
    fields = expression.split()
    if len(fields) != 5 or fields[4] in ("*", "?"):
        return expression
    days: set[int] = set()
    for item in fields[4].split(","):
        part, slash, step = item.partition("/")
        if part == "*":
            first, last = 0, 6
        elif "-" in part:
            low, high = part.split("-", 1)
            first, last = _weekday_number(low), _weekday_number(high)
        else:
            first = _weekday_number(part)
            last = 7 if slash else first  # cron reads "1/2" as "1-7/2"
        every = int(step) if step.isdigit() else 0 if slash else 1
        if every == 0 or first > last:
            raise ValueError(f"{item!r} is not a day-of-week range")
        days |= {day % 7 for day in range(first, last + 1, every)}
    fields[4] = ",".join(_WEEKDAYS[day] for day in sorted(days))
    return " ".join(fields)


def _weekday_number(text: str) -> int:
    """0-7 (0 and 7 are Sunday) from a number or a three-letter name."""
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text.lower() in _WEEKDAYS:
        return _WEEKDAYS.index(text.lower())
    raise ValueError(f"{text!r} is not a day of the week (0-7 or sun-sat)")


def _as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    """'2026-11-27T10:15:00Z'."""
    return moment.isoformat().replace("+00:00", "Z")


def _floor(moment: datetime, interval: timedelta) -> datetime:
    """The last grid point (multiples of `interval` from the epoch) at or before `moment`."""
    return _EPOCH + ((moment - _EPOCH) // interval) * interval


def _require_aligned(moment: datetime, interval: timedelta) -> None:
    """Raise unless `moment` is on the interval grid."""
    below = _floor(moment, interval)
    if below != moment:
        raise WindowInputError(
            f"{_iso(moment)} is not on the {_describe(interval)} window grid; "
            f"the nearest window bounds are {_iso(below)} and {_iso(below + interval)}"
        )


def _describe(interval: timedelta) -> str:
    """'15m', '1h', '90s': the interval the way a user writes it."""
    seconds = int(interval.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def _fires_between(cron: Cron, start: datetime, end: datetime) -> list[datetime]:
    """The fire times in [start, end], which must both be fire times."""
    trigger = cron.trigger()
    fires: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire <= end:
        fires.append(fire.astimezone(UTC))
        fire = trigger.get_next_fire_time(fire, fire)
    for bound in (start, end):
        if bound not in fires:
            raise WindowInputError(
                f"{_iso(bound)} is not a fire time of the cron schedule {cron.expression!r} "
                f"({cron.timezone})"
            )
    return fires


def _last_two_fires(cron: Cron, now: datetime) -> tuple[datetime, datetime]:
    """The last two fire times at or before `now`.

    APScheduler only looks forward, so walk forward from ever earlier points until two
    fire times turn up.
    """
    trigger = cron.trigger()
    lookback = _CRON_FIRST_LOOKBACK
    while lookback <= _CRON_MAX_LOOKBACK:
        recent: list[datetime] = []
        fire = trigger.get_next_fire_time(None, now - lookback)
        while fire is not None and fire <= now:
            recent = [*recent[-1:], fire.astimezone(UTC)]
            fire = trigger.get_next_fire_time(fire, fire)
        if len(recent) == 2:
            return recent[0], recent[1]
        lookback *= 2
    raise WindowInputError(
        f"the cron schedule {cron.expression!r} did not fire twice in the "
        f"{_CRON_MAX_LOOKBACK.days} days before now"
    )
