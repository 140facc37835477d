"""Business time: the hours a project's team works, in the project's time zone.

A ``Calendar`` is weekly opening hours (local wall-clock intervals per weekday, none
crossing midnight), holidays (a date, or a month and day every year) and an IANA time zone.
Business time is real elapsed time inside those intervals, so a day whose opening hours
span a daylight-saving change is an hour shorter or longer, and an interval's local start
and end are found again after each change (09:00 stays 09:00 local, not 08:00).

Pure functions, no database::

    add_business_time(start, minutes, cal) -> datetime      # the instant ``minutes`` later
    business_minutes_between(a, b, cal) -> int             # floor of business time in [a, b)
    business_seconds_between(a, b, cal) -> int
    BusinessClock(cal, first, last).seconds_between(a, b)  # the same, for many pairs

``add_business_time`` with 0 minutes returns ``start`` itself; otherwise the result lies
inside (or at the end of) a business interval, so ``add(add(s, a), b) == add(s, a + b)``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES: dict[str, str] = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}
DAY_MINUTES = 24 * 60
DEFAULT_HOURS: dict[str, list[str]] = {
    day: (["09:00-17:00"] if day not in ("sat", "sun") else []) for day in WEEKDAYS
}
# Searching further than this for business time means the calendar has (almost) none.
MAX_SEARCH_DAYS = 3 * 366

_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")

Interval = tuple[int, int]  # minutes after local midnight, start < end <= 1440


class CalendarError(ValueError):
    """A calendar that cannot be used; ``fields`` names what is wrong, for a 422."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class Calendar:
    tz: ZoneInfo
    # Indexed by date.weekday() (Monday 0): sorted, non-overlapping intervals.
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()  # (month, day)

    def is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def intervals_on(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The business intervals of local date ``day`` as UTC instants, in order."""
        return _intervals_on(self, day)

    def has_hours(self) -> bool:
        return any(self.week)


@lru_cache(maxsize=65536)
def _intervals_on(cal: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    found: list[tuple[datetime, datetime]] = []
    if not cal.is_holiday(day):
        for start, end in cal.week[day.weekday()]:
            a = _instant(day, start, cal.tz)
            b = _instant(day, end, cal.tz)
            if found and a < found[-1][1]:  # a repeated hour made two intervals overlap
                a = found[-1][1]
            if b > a:
                found.append((a, b))
    return tuple(found)


def _instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """Local ``day`` at ``minute`` past midnight as a UTC instant. A local time skipped by a
    daylight-saving change resolves as zoneinfo does (fold 0: the offset before it), a
    repeated one to its first occurrence."""
    if minute >= DAY_MINUTES:
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    else:
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return local.astimezone(UTC)


def _days_from(day: date) -> Iterator[date]:
    for offset in range(MAX_SEARCH_DAYS + 1):
        yield day + timedelta(days=offset)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("business time needs timezone-aware datetimes")
    return moment.astimezone(UTC)


def add_business_time(start: datetime, minutes: int, cal: Calendar) -> datetime:
    """The instant ``minutes`` of business time after ``start`` (in UTC)."""
    return add_business_seconds(start, minutes * 60, cal)


def add_business_seconds(start: datetime, seconds: int, cal: Calendar) -> datetime:
    if seconds < 0:
        raise ValueError("business time cannot be negative")
    cursor = _aware(start)
    if seconds == 0:
        return cursor
    remaining = timedelta(seconds=seconds)
    # The day before too: its local intervals can end after ``start`` in UTC terms.
    first = cursor.astimezone(cal.tz).date() - timedelta(days=1)
    for day in _days_from(first):
        for a, b in cal.intervals_on(day):
            if b <= cursor:
                continue
            begin = max(a, cursor)
            available = b - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
    raise ValueError("the calendar has no business hours within three years")


def business_seconds_between(a: datetime, b: datetime, cal: Calendar) -> int:
    """Business seconds in [a, b) (0 when b is not after a)."""
    a, b = _aware(a), _aware(b)
    if b <= a:
        return 0
    total = timedelta()
    day = a.astimezone(cal.tz).date() - timedelta(days=1)
    last = b.astimezone(cal.tz).date()
    while day <= last:
        for start, end in cal.intervals_on(day):
            lo, hi = max(start, a), min(end, b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return int(total.total_seconds())


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (_aware(moment) - _EPOCH) // _MICRO


class BusinessClock:
    """``business_seconds_between`` for many pairs of instants on one calendar (a dashboard's
    tickets): the calendar's intervals from ``first`` to ``last`` are laid out once with
    running totals, and each pair then costs two binary searches. Instants outside that
    span are counted by ``business_seconds_between`` itself; the results are the same."""

    def __init__(self, cal: Calendar, first: datetime, last: datetime) -> None:
        self.cal = cal
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._before: list[int] = []  # business microseconds before each interval
        total = 0
        day = _aware(first).astimezone(cal.tz).date() - timedelta(days=1)
        stop = _aware(last).astimezone(cal.tz).date() + timedelta(days=1)
        while day <= stop:
            for start, end in cal.intervals_on(day):
                a, b = _micros(start), _micros(end)
                if self._ends and a < self._ends[-1]:  # never overlap a previous day
                    a = self._ends[-1]
                if b > a:
                    self._starts.append(a)
                    self._ends.append(b)
                    self._before.append(total)
                    total += b - a
            day += timedelta(days=1)
        self._low = _micros(first)
        self._high = _micros(last)

    def _business_before(self, t: int) -> int:
        i = bisect_right(self._starts, t) - 1
        if i < 0:
            return 0
        return self._before[i] + min(t, self._ends[i]) - self._starts[i]

    def seconds_between(self, a: datetime, b: datetime) -> int:
        """Business seconds in [a, b), as ``business_seconds_between(a, b, cal)``."""
        return self._between(_micros(a), _micros(b))

    def seconds_between_epochs(self, a: float, b: float) -> int:
        """The same for two instants given as seconds since 1970-01-01 UTC (as SQL gives
        them, which spares parsing timestamps), to the microsecond."""
        return self._between(round(a * 1_000_000), round(b * 1_000_000))

    def _between(self, x: int, y: int) -> int:
        if y <= x:
            return 0
        if x < self._low or y > self._high:
            return business_seconds_between(_EPOCH + x * _MICRO, _EPOCH + y * _MICRO, self.cal)
        return (self._business_before(y) - self._business_before(x)) // 1_000_000


def business_minutes_between(a: datetime, b: datetime, cal: Calendar) -> int:
    """Whole business minutes in [a, b)."""
    return business_seconds_between(a, b, cal) // 60


# Building and validating calendars from what people type.


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone, or CalendarError on ``time_zone``."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 64 or cleaned.startswith(("/", ".")) or ".." in cleaned:
        raise CalendarError({"time_zone": f"Unknown time zone {name!r}."})
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise CalendarError({"time_zone": f"Unknown time zone {name!r}."}) from None


def _minute_of(text: str) -> int | None:
    match = _TIME.match(text.strip())
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    value = hours * 60 + minutes
    return value if value <= DAY_MINUTES else None


def parse_interval(text: str) -> Interval:
    """"09:00-17:00" as minutes; ValueError with a message for people."""
    parts = text.replace("\u2013", "-").split("-")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not an interval like 09:00-17:00.")
    start, end = _minute_of(parts[0]), _minute_of(parts[1])
    if start is None or end is None:
        raise ValueError(f"{text!r} is not an interval like 09:00-17:00 (times 00:00-24:00).")
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts: an interval cannot cross "
                         "midnight, split it into two days.")
    return start, end


def format_interval(interval: Interval) -> str:
    start, end = interval
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def parse_week(hours: Mapping[str, Sequence[str]]) -> tuple[tuple[Interval, ...], ...]:
    """Opening hours per weekday key ("mon".."sun"), each a list of "HH:MM-HH:MM"."""
    errors: dict[str, str] = {}
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        errors["hours"] = f"Unknown weekday {unknown[0]!r}: use mon, tue, ... sun."
    week: list[tuple[Interval, ...]] = []
    for day in WEEKDAYS:
        intervals: list[Interval] = []
        for text in hours.get(day, ()):
            try:
                intervals.append(parse_interval(text))
            except ValueError as exc:
                errors.setdefault(f"hours.{day}", str(exc))
        intervals.sort()
        for earlier, later in pairwise(intervals):
            if later[0] < earlier[1]:
                errors.setdefault(f"hours.{day}",
                                  f"{format_interval(earlier)} and {format_interval(later)} "
                                  "overlap.")
        week.append(tuple(intervals))
    if not errors and not any(week):
        errors["hours"] = "Give at least one interval of business hours in the week."
    if errors:
        raise CalendarError(errors)
    return tuple(week)


@dataclass(frozen=True)
class Holiday:
    day: date
    yearly: bool = False
    name: str = ""


def build_calendar(time_zone: str, hours: Mapping[str, Sequence[str]],
                   holidays: Iterable[Holiday] = ()) -> Calendar:
    """A validated calendar; CalendarError names every wrong field."""
    errors: dict[str, str] = {}
    tz: ZoneInfo | None = None
    week: tuple[tuple[Interval, ...], ...] = ()
    try:
        tz = parse_zone(time_zone)
    except CalendarError as exc:
        errors.update(exc.fields)
    try:
        week = parse_week(hours)
    except CalendarError as exc:
        errors.update(exc.fields)
    if errors or tz is None:
        raise CalendarError(errors)
    fixed = frozenset(h.day for h in holidays if not h.yearly)
    yearly = frozenset((h.day.month, h.day.day) for h in holidays if h.yearly)
    return Calendar(tz, week, fixed, yearly)


def default_calendar(time_zone: str = "UTC") -> Calendar:
    """Monday to Friday, 09:00-17:00, in ``time_zone`` (UTC if it is not a known zone)."""
    try:
        tz = parse_zone(time_zone)
    except CalendarError:
        tz = ZoneInfo("UTC")
    return Calendar(tz, parse_week(DEFAULT_HOURS))
