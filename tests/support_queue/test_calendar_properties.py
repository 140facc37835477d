"""Properties of business time on random instants, over calendars with daylight-saving
changes, split hours, late hours that cross midnight in UTC, and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from forum.support_queue.calendar import (
    Calendar,
    Holiday,
    add_business_time,
    build_calendar,
    business_minutes_between,
    business_seconds_between,
    default_calendar,
)

CALENDARS: list[Calendar] = [
    default_calendar("Europe/Berlin"),
    default_calendar("America/New_York"),
    build_calendar("America/New_York", {"mon": ["08:00-12:00", "13:00-18:30"],
                                        "wed": ["00:00-24:00"], "sun": ["01:00-03:30"]}),
    build_calendar("Europe/Berlin", {"sun": ["00:00-24:00"], "sat": ["02:00-03:00"]},
                   [Holiday(date(2026, 3, 1)), Holiday(date(2025, 10, 5), yearly=True)]),
    build_calendar("Asia/Kolkata", {d: ["09:30-18:00"] for d in ("mon", "tue", "thu")},
                   [Holiday(date(2026, 1, 26), yearly=True)]),
    build_calendar("Pacific/Auckland", {"fri": ["18:00-24:00"], "sat": ["00:00-06:00"]}),
]

# By index: a calendar's repr carries its cache of computed days.
calendars = st.integers(0, len(CALENDARS) - 1).map(CALENDARS.__getitem__)
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                        timezones=st.just(UTC))
minutes = st.integers(min_value=0, max_value=20 * 24 * 60)

PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(cal=calendars, start=instants, until=instants)
def test_adding_the_time_between_lands_on_or_before_the_end(cal: Calendar, start: datetime,
                                                            until: datetime) -> None:
    spent = business_minutes_between(start, until, cal)
    landed = add_business_time(start, spent, cal)
    if until >= start:
        assert landed <= until
        # no whole business minute is left between where we landed and ``until``
        assert business_seconds_between(landed, until, cal) < 60
    else:
        assert spent == 0 and landed == start


@PROPERTY
@given(cal=calendars, start=instants, amount=minutes)
def test_the_time_between_start_and_the_result_is_what_was_added(cal: Calendar,
                                                                  start: datetime,
                                                                  amount: int) -> None:
    assert business_minutes_between(start, add_business_time(start, amount, cal),
                                    cal) == amount


@PROPERTY
@given(cal=calendars, start=instants, a=minutes, b=minutes)
def test_adding_is_monotonic(cal: Calendar, start: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert add_business_time(start, low, cal) <= add_business_time(start, high, cal)
    assert add_business_time(start, high, cal) >= start


@PROPERTY
@given(cal=calendars, start=instants, later=st.integers(0, 90 * 24 * 60), amount=minutes)
def test_a_later_start_is_never_due_earlier(cal: Calendar, start: datetime, later: int,
                                           amount: int) -> None:
    assert (add_business_time(start + timedelta(minutes=later), amount, cal)
            >= add_business_time(start, amount, cal))


@PROPERTY
@given(cal=calendars, start=instants, a=minutes, b=minutes)
def test_adding_is_additive(cal: Calendar, start: datetime, a: int, b: int) -> None:
    assert (add_business_time(add_business_time(start, a, cal), b, cal)
            == add_business_time(start, a + b, cal))


whole_seconds = instants.map(lambda moment: moment.replace(microsecond=0))


@PROPERTY
@given(cal=calendars, a=whole_seconds, b=whole_seconds, c=whole_seconds)
def test_between_is_additive_over_a_middle_point(cal: Calendar, a: datetime, b: datetime,
                                                 c: datetime) -> None:
    first, middle, last = sorted((a, b, c))
    assert (business_seconds_between(first, middle, cal)
            + business_seconds_between(middle, last, cal)
            == business_seconds_between(first, last, cal))
