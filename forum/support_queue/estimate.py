"""When a requester can expect the team's first response, as a range of business time.

From history: the business time between submission and first team response of the
project's tickets of the same tier answered over the last ``HISTORY_DAYS`` days; its middle
(median) and upper (90th percentile) values, by the nearest-rank method, make the range.

From the queue: at the recent answering rate (tickets first-answered over the last
``RATE_DAYS`` days, per business minute of that window), the team reaches place ``p`` after
``(p - 1)`` (low) to ``p`` (high) answers' worth of business time.

The estimate is the later of the two, floored by the project's minimum. With no history,
the project's minimum. Business time is counted in the project's business calendar (the
SLA settings' ``load_calendar``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from forum.support_queue.calendar import Calendar, business_minutes_between, default_calendar
from forum.support_queue.models import Ticket
from forum.support_queue.queue import QUEUED, load_queue_settings, queue_position

if TYPE_CHECKING:
    from forum.platform import Platform

HISTORY_DAYS = 90
RATE_DAYS = 14
HISTORY_LIMIT = 5000  # the most recent answers are plenty for two quantiles
MIDDLE, UPPER = 50, 90  # percentiles
EN_DASH = "\u2013"


@dataclass(frozen=True)
class ExpectedResponse:
    """Between ``low_minutes`` and ``high_minutes`` of business time from now (or from
    submission, for history alone); ``label`` says it for people, e.g. "3-5 hours"."""

    low_minutes: int
    high_minutes: int
    label: str


async def project_calendar(project_id: int) -> Calendar:
    """The project's business calendar (its SLA settings), or the default week in UTC for
    a project that no longer exists."""
    from forum.projects.models import Project
    from forum.support_queue.sla import load_calendar

    project = await Project.get_or_none(id=project_id)
    return await load_calendar(project) if project is not None else default_calendar("UTC")


def nearest_rank(sorted_values: list[int], percent: int) -> int:
    """The ``percent``-th percentile of ascending values by the nearest-rank method."""
    rank = max(1, -(-percent * len(sorted_values) // 100))
    return sorted_values[rank - 1]


def workday_minutes(cal: Calendar) -> int:
    """Business minutes of an average working day of the calendar (480 when it has none)."""
    days = [sum(end - start for start, end in day) for day in cal.week]
    working = [m for m in days if m > 0]
    return sum(working) // len(working) if working else 480


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def label(low: int, high: int, day_minutes: int) -> str:
    """E.g. "7-10 workdays" (an en dash), "about 20 minutes"; the unit is the one that suits the
    upper end, the low end rounded down and the high end up."""
    if high <= 0:
        return "no estimate yet"
    if high < 60:
        unit, word = 1, "minute"
    elif high < day_minutes:
        unit, word = 60, "hour"
    else:
        unit, word = day_minutes, "workday"
    lo = low // unit
    hi = max(1, -(-high // unit))
    if lo >= hi:
        return f"about {_plural(hi, word)}"
    if lo == 0:
        return f"up to {_plural(hi, word)}"
    return f"{lo}{EN_DASH}{_plural(hi, word)}"


def estimate(history: list[int], position: int | None, answered_recently: int,
             rate_window_minutes: int, minimum: int, day_minutes: int) -> ExpectedResponse:
    """The pure calculation: ``history`` in business minutes (any order)."""
    if not history:
        return ExpectedResponse(minimum, minimum, label(minimum, minimum, day_minutes))
    values = sorted(history)
    low, high = nearest_rank(values, MIDDLE), nearest_rank(values, UPPER)
    if position is not None and answered_recently > 0:
        low = max(low, (position - 1) * rate_window_minutes // answered_recently)
        high = max(high, -(-position * rate_window_minutes // answered_recently))
    low, high = max(low, minimum), max(high, minimum)
    high = max(high, low)
    return ExpectedResponse(low, high, label(low, high, day_minutes))


async def expected_response(ticket: Ticket, *, platform: Platform | None = None,
                            now: datetime | None = None) -> ExpectedResponse | None:
    """The first response a queued ticket can expect; None when it is not queued or the
    team already answered it."""
    if str(ticket.state) not in QUEUED or ticket.first_response_at is not None:
        return None
    now = now or datetime.now(UTC)
    project_id: int = ticket.project_id  # type: ignore[attr-defined]
    settings = await load_queue_settings(project_id)
    cal = await project_calendar(project_id)
    rows = await (Ticket.filter(project_id=project_id, tier=ticket.tier,
                                submitted_at__isnull=False,
                                first_response_at__gte=now - timedelta(days=HISTORY_DAYS))
                  .order_by("-first_response_at").limit(HISTORY_LIMIT)
                  .values_list("submitted_at", "first_response_at"))
    history = [business_minutes_between(submitted, answered, cal)
               for submitted, answered in rows if answered >= submitted]
    since = now - timedelta(days=RATE_DAYS)
    answered = await Ticket.filter(project_id=project_id, first_response_at__gte=since,
                                   first_response_at__lte=now).count()
    position = await queue_position(ticket, platform=platform, now=now)
    return estimate(history, position, answered, business_minutes_between(since, now, cal),
                    settings.minimum_response_minutes, workday_minutes(cal))
