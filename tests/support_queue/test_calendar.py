"""Business time: weekends, holidays, daylight-saving changes, validation; exact instants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from forum.support_queue.calendar import (
    Calendar,
    CalendarError,
    Holiday,
    add_business_time,
    build_calendar,
    business_minutes_between,
    business_seconds_between,
    default_calendar,
    parse_interval,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_default_calendar_is_weekdays_nine_to_five() -> None:
    cal = default_calendar("Europe/Berlin")
    assert cal.tz == BERLIN
    assert cal.week[0] == ((540, 1020),)
    assert cal.week[4] == ((540, 1020),)
    assert cal.week[5] == () and cal.week[6] == ()


def test_unknown_zone_falls_back_to_utc_in_the_default() -> None:
    assert default_calendar("Mars/Olympus").tz == ZoneInfo("UTC")


def test_within_one_day() -> None:
    cal = default_calendar("UTC")
    # Monday 2026-11-23 10:15 + 90 minutes
    assert add_business_time(utc(2026, 11, 23, 10, 15), 90, cal) == utc(2026, 11, 23, 11, 45)


def test_start_before_opening_begins_at_opening() -> None:
    cal = default_calendar("UTC")
    assert add_business_time(utc(2026, 11, 23, 6, 0), 30, cal) == utc(2026, 11, 23, 9, 30)


def test_exact_end_of_day_stays_at_closing() -> None:
    cal = default_calendar("UTC")
    assert add_business_time(utc(2026, 11, 23, 16, 0), 60, cal) == utc(2026, 11, 23, 17, 0)
    assert add_business_time(utc(2026, 11, 23, 16, 0), 61, cal) == utc(2026, 11, 24, 9, 1)


def test_weekend_is_skipped() -> None:
    cal = default_calendar("UTC")
    # Friday 2026-11-27 16:00 + 2h: one hour on Friday, one on Monday
    assert add_business_time(utc(2026, 11, 27, 16, 0), 120, cal) == utc(2026, 11, 30, 10, 0)
    assert business_minutes_between(utc(2026, 11, 27, 16, 0), utc(2026, 11, 30, 10, 0),
                                    cal) == 120


def test_zero_minutes_is_the_start_itself() -> None:
    cal = default_calendar("UTC")
    saturday = utc(2026, 11, 28, 12, 0)
    assert add_business_time(saturday, 0, cal) == saturday


def test_negative_minutes_are_refused() -> None:
    with pytest.raises(ValueError):
        add_business_time(utc(2026, 11, 23, 10), -1, default_calendar())


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        add_business_time(datetime(2026, 11, 23, 10), 10, default_calendar())


def test_between_is_zero_backwards_and_floors_seconds() -> None:
    cal = default_calendar("UTC")
    assert business_minutes_between(utc(2026, 11, 23, 12), utc(2026, 11, 23, 11), cal) == 0
    a = utc(2026, 11, 23, 12, 0, 0)
    assert business_seconds_between(a, utc(2026, 11, 23, 12, 1, 59), cal) == 119
    assert business_minutes_between(a, utc(2026, 11, 23, 12, 1, 59), cal) == 1


def test_berlin_spring_forward_keeps_local_opening_hours() -> None:
    """Clocks go forward on Sunday 2026-03-29: Monday's 09:00 is 07:00 UTC, not 08:00."""
    cal = default_calendar("Europe/Berlin")
    friday_16 = datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN)  # 15:00 UTC
    due = add_business_time(friday_16, 120, cal)
    assert due == utc(2026, 3, 30, 8, 0)  # Monday 10:00 CEST
    assert due.astimezone(BERLIN).hour == 10
    assert business_minutes_between(friday_16, due, cal) == 120


def test_berlin_fall_back_keeps_local_opening_hours() -> None:
    """Clocks go back on Sunday 2026-10-25: Monday's 09:00 is 08:00 UTC."""
    cal = default_calendar("Europe/Berlin")
    friday = datetime(2026, 10, 23, 16, 30, tzinfo=BERLIN)  # 14:30 UTC
    assert add_business_time(friday, 60, cal) == utc(2026, 10, 26, 8, 30)


def test_new_york_fall_back() -> None:
    """Clocks go back on Sunday 2026-11-01: Monday's 09:00 EST is 14:00 UTC."""
    cal = default_calendar("America/New_York")
    friday = datetime(2026, 10, 30, 16, 30, tzinfo=NEW_YORK)  # 20:30 UTC (EDT)
    assert add_business_time(friday, 60, cal) == utc(2026, 11, 2, 14, 30)


def test_new_york_spring_forward() -> None:
    """Clocks go forward on Sunday 2026-03-08: Monday's 09:00 EDT is 13:00 UTC."""
    cal = default_calendar("America/New_York")
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK)  # 21:00 UTC (EST)
    assert add_business_time(friday, 8 * 60, cal) == utc(2026, 3, 9, 20, 0)  # Mon 16:00 EDT


def test_a_full_day_across_the_change_is_real_time() -> None:
    """Open round the clock on Sundays: the spring Sunday has 23 hours, the autumn one 25."""
    cal = build_calendar("Europe/Berlin", {"sun": ["00:00-24:00"]})
    spring = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    assert business_minutes_between(spring, datetime(2026, 3, 30, tzinfo=BERLIN),
                                    cal) == 23 * 60
    autumn = datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN)
    assert business_minutes_between(autumn, datetime(2026, 10, 26, tzinfo=BERLIN),
                                    cal) == 25 * 60
    # 22 hours after midnight on the short day is 23:00 local (21:00 UTC)
    assert add_business_time(spring, 22 * 60, cal) == utc(2026, 3, 29, 21, 0)


def test_interval_over_the_skipped_hour() -> None:
    """01:00-04:00 on the spring Sunday lasts two real hours."""
    cal = build_calendar("Europe/Berlin", {"sun": ["01:00-04:00"]})
    day = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    assert business_minutes_between(day, day.replace(hour=12), cal) == 120
    # two hours that day, the last 30 minutes the next Sunday: 01:30 CEST
    assert add_business_time(day, 150, cal) == utc(2026, 4, 4, 23, 30)


def test_holidays_fixed_and_yearly() -> None:
    cal = build_calendar("UTC", {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu",
                                                                 "fri")},
                         [Holiday(date(2020, 12, 25), yearly=True),
                          Holiday(date(2026, 12, 28))])
    # Thursday 2026-12-24 16:00 + 2h: Friday is Christmas, Monday the 28th a holiday
    assert add_business_time(utc(2026, 12, 24, 16), 120, cal) == utc(2026, 12, 29, 10)
    assert cal.is_holiday(date(2031, 12, 25))
    assert not cal.is_holiday(date(2027, 12, 28))


def test_split_intervals_and_lunch_break() -> None:
    cal = build_calendar("UTC", {"mon": ["09:00-12:00", "13:00-17:00"]})
    monday = utc(2026, 11, 23, 11, 0)
    assert add_business_time(monday, 90, cal) == utc(2026, 11, 23, 13, 30)
    assert business_minutes_between(monday, utc(2026, 11, 23, 14, 0), cal) == 120


def test_start_during_an_interval_of_the_previous_local_day() -> None:
    """Late hours in Los Angeles are the next day in UTC."""
    cal = build_calendar("America/Los_Angeles", {"mon": ["20:00-23:00"]})
    # Monday 2026-11-23 21:00 PST is Tuesday 05:00 UTC
    assert add_business_time(utc(2026, 11, 24, 5, 0), 60, cal) == utc(2026, 11, 24, 6, 0)


def test_no_hours_for_years_raises() -> None:
    cal = Calendar(ZoneInfo("UTC"), ((),) * 7)
    with pytest.raises(ValueError):
        add_business_time(utc(2026, 1, 1), 1, cal)


@pytest.mark.parametrize("text", ["22:00-02:00", "17:00-09:00", "09:00-09:00"])
def test_interval_crossing_midnight_or_empty_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="cannot cross midnight"):
        parse_interval(text)


@pytest.mark.parametrize("text", ["9-17", "09:00", "25:00-26:00", "09:60-10:00", "a-b"])
def test_malformed_interval_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


def test_parse_interval_allows_24() -> None:
    assert parse_interval("00:00-24:00") == (0, 1440)
    assert parse_interval(" 9:30-17:15 ") == (570, 1035)


def test_build_calendar_names_every_wrong_field() -> None:
    with pytest.raises(CalendarError) as info:
        build_calendar("Europe/Nowhere", {"mon": ["09:00-12:00", "11:00-13:00"],
                                          "tue": ["18:00-08:00"]})
    assert set(info.value.fields) == {"time_zone", "hours.mon", "hours.tue"}
    assert "overlap" in info.value.fields["hours.mon"]
    assert "midnight" in info.value.fields["hours.tue"]


@pytest.mark.parametrize("zone", ["", "../etc/passwd", "/etc/localtime", "Nowhere/City",
                                  "x" * 80])
def test_bad_zones_are_refused(zone: str) -> None:
    with pytest.raises(CalendarError) as info:
        build_calendar(zone, {"mon": ["09:00-17:00"]})
    assert set(info.value.fields) == {"time_zone"}


def test_unknown_weekday_and_empty_week_are_refused() -> None:
    with pytest.raises(CalendarError) as info:
        build_calendar("UTC", {"funday": ["09:00-17:00"]})
    assert "hours" in info.value.fields
    with pytest.raises(CalendarError) as info:
        build_calendar("UTC", {"mon": []})
    assert "at least one" in info.value.fields["hours"]
