"""Expected response times: from known histories to exact ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forum.queueing import QueueSettingsData
from forum.support_queue.calendar import default_calendar
from forum.support_queue.estimate import (
    ExpectedResponse,
    estimate,
    expected_response,
    label,
    nearest_rank,
    workday_minutes,
)
from forum.support_queue.models import TicketState
from forum.support_queue.queue import expected_response as expected_from_queue
from forum.support_queue.queue import save_queue_settings
from tests.factories import make_project, make_user
from tests.support_queue.test_queue_sql import add_ticket

DAY = 480  # the default calendar's workday: 09:00-17:00
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, noon UTC


def test_nearest_rank_percentiles() -> None:
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert nearest_rank(values, 50) == 5
    assert nearest_rank(values, 90) == 9
    assert nearest_rank([7], 90) == 7


def test_workdays_from_middle_and_upper_quantiles() -> None:
    history = [d * DAY for d in (5, 6, 7, 7, 8, 9, 10, 10, 10, 12)]
    result = estimate(history, None, 0, 0, 0, DAY)
    assert result == ExpectedResponse(8 * DAY, 10 * DAY, "8\u201310 workdays")


def test_hours() -> None:
    result = estimate([300, 180, 240, 200], None, 0, 0, 0, DAY)
    assert (result.low_minutes, result.high_minutes) == (200, 300)
    assert result.label == "3\u20135 hours"


def test_no_history_is_the_project_minimum() -> None:
    assert estimate([], 7, 30, 4800, 2 * DAY, DAY) == ExpectedResponse(
        2 * DAY, 2 * DAY, "about 2 workdays")
    assert estimate([], None, 0, 0, 0, DAY).label == "no estimate yet"


def test_the_minimum_floors_a_quick_history() -> None:
    assert estimate([30, 40], None, 0, 0, 120, DAY) == ExpectedResponse(
        120, 120, "about 2 hours")


def test_a_long_queue_at_the_recent_rate_pushes_the_range_out() -> None:
    # Ten answers in 4800 business minutes: one per 480. Fifth in line: 4 to 5 workdays.
    result = estimate([60] * 10, 5, 10, 4800, 0, DAY)
    assert (result.low_minutes, result.high_minutes) == (4 * DAY, 5 * DAY)
    assert result.label == "4\u20135 workdays"
    # First in line with a fast team: history decides.
    assert estimate([60, 90], 1, 100, 4800, 0, DAY).high_minutes == 90


def test_labels() -> None:
    assert label(20, 20, DAY) == "about 20 minutes"
    assert label(0, 45, DAY) == "up to 45 minutes"
    assert label(60, 61, DAY) == "1\u20132 hours"
    assert label(DAY, DAY, DAY) == "about 1 workday"
    assert workday_minutes(default_calendar()) == DAY


async def test_expected_response_from_the_database(db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    monday = datetime(2026, 2, 23, 9, 0, tzinfo=UTC)
    # Same tier, in the last 90 days: 3 and 5 business hours (the second over a weekend:
    # Friday 15:00 to Monday 12:00 is 2 + 3 hours).
    await add_ticket(project, owner, state=TicketState.SOLVED, submitted_at=monday,
                     first_response_at=monday + timedelta(hours=3))
    friday = datetime(2026, 2, 20, 15, 0, tzinfo=UTC)
    await add_ticket(project, owner, state=TicketState.SOLVED, submitted_at=friday,
                     first_response_at=datetime(2026, 2, 23, 12, 0, tzinfo=UTC))
    # Another tier, and older than 90 days: left out of the history.
    await add_ticket(project, owner, tier="subscription", state=TicketState.SOLVED,
                     submitted_at=monday, first_response_at=monday + timedelta(days=3))
    old = NOW - timedelta(days=120)
    await add_ticket(project, owner, state=TicketState.SOLVED, submitted_at=old,
                     first_response_at=old + timedelta(days=20))
    waiting = await add_ticket(project, owner, waited_minutes=10)
    result = await expected_response(waiting, now=NOW)
    assert result is not None
    # History: 180 and 300 minutes -> 180 to 300. Three answers in the last 14 days
    # (4800 business minutes): first in line, 1600 at most.
    assert (result.low_minutes, result.high_minutes) == (180, 1600)
    assert result.label == "up to 4 workdays"
    assert await expected_from_queue(waiting, now=NOW) == result
    # The minimum floors it.
    await save_queue_settings(project.id, QueueSettingsData(minimum_response_minutes=2000))
    floored = await expected_response(waiting, now=NOW)
    assert floored is not None and (floored.low_minutes, floored.high_minutes) == (2000, 2000)


async def test_no_history_in_the_database_is_the_minimum(db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    await save_queue_settings(project.id, QueueSettingsData(minimum_response_minutes=3 * DAY))
    ticket = await add_ticket(project, owner, tier="enterprise")
    result = await expected_response(ticket, now=NOW)
    assert result == ExpectedResponse(3 * DAY, 3 * DAY, "about 3 workdays")
    draft = await add_ticket(project, owner, state=TicketState.DRAFT)
    assert await expected_response(draft, now=NOW) is None


async def test_history_is_counted_in_the_projects_calendar(db: None) -> None:
    from forum.support_queue.sla_models import BusinessCalendar

    owner = await make_user()
    project = await make_project(owner=owner)
    # Around the clock, every day: Friday 15:00 to Monday 12:00 is 69 hours.
    await BusinessCalendar.create(project=project, time_zone="UTC", hours={
        day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    friday = datetime(2026, 2, 20, 15, 0, tzinfo=UTC)
    await add_ticket(project, owner, state=TicketState.SOLVED, submitted_at=friday,
                     first_response_at=datetime(2026, 2, 23, 12, 0, tzinfo=UTC))
    for _ in range(50):  # a fast team: the queue adds nothing
        await add_ticket(project, owner, tier="subscription", state=TicketState.SOLVED,
                         first_response_at=NOW - timedelta(days=1))
    waiting = await add_ticket(project, owner)
    result = await expected_response(waiting, now=NOW)
    assert result is not None and (result.low_minutes, result.high_minutes) == (69 * 60,
                                                                              69 * 60)
    assert result.label == "2\u20133 workdays"  # a workday of this calendar is 24 hours
