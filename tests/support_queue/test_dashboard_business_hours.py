"""First responses in business hours on the support dashboards: counted on the project's
calendar (opening hours, holidays, time zone) per ticket, beside the wall-clock charts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forum.charts import month_label, period_labels
from forum.support_queue.calendar import BusinessClock, Calendar, business_seconds_between
from forum.support_queue.models import TicketState, Tier
from forum.support_queue.sla_models import BusinessCalendar
from forum.topics.categories import ensure_default_categories
from tests.reputation.test_dashboards import make_cast
from tests.support import Login
from tests.support_queue.test_calendar_properties import CALENDARS, instants
from tests.support_queue.test_dashboard_panels import Seeded, add_ticket

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
ALWAYS = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
MONTHS = 12


def last_sunday(year: int, month: int) -> date:
    day = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def latest(candidates: list[date]) -> date:
    """The latest day at least ten days ago (well inside the 12-month period)."""
    limit = datetime.now(UTC).date() - timedelta(days=10)
    return max(d for d in candidates if d <= limit)


def local(day: date, hour: int, minute: int = 0, tz: ZoneInfo = PARIS) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def in_month(moment: datetime) -> int:
    return period_labels(MONTHS).index(month_label(moment.date()))


async def board(client: httpx.AsyncClient, login: Login, user: Any, slug: str, name: str,
                query: str = "") -> dict[str, Any]:
    await login(user)
    response = await client.get(f"/api/v1/projects/{slug}/dashboard/{name}?months={MONTHS}"
                                f"{query}")
    assert response.status_code == 200, response.text
    return {c["slug"]: c for c in response.json()["charts"]}


def series(chart: dict[str, Any]) -> dict[str, list[Any]]:
    return {s["name"]: s["values"] for s in chart["series"]}


class Paris:
    """A Paris project open Monday to Friday 09:00-17:00 and its tickets."""

    def __init__(self, seeded: Seeded) -> None:
        self.s = seeded
        year = datetime.now(UTC).year
        self.dst_sunday = latest([last_sunday(y, m) for y in (year - 1, year)
                                  for m in (3, 10)])
        self.friday = self.dst_sunday - timedelta(days=16)  # two weeks before the change
        self.holiday_friday = self.friday - timedelta(days=7)
        self.holiday = self.holiday_friday + timedelta(days=3)  # that Monday

    async def seed(self) -> None:
        s, supporter = self.s, self.s.cast.supporter
        await BusinessCalendar.create(project=s.cast.project, time_zone="Europe/Paris",
                                      hours=WEEKDAYS_9_TO_5,
                                      holidays=[{"date": self.holiday.isoformat()}])
        monday = self.friday + timedelta(days=3)
        # Free: Friday 18:00 -> Monday 09:30 (0.5 business hours, 63.5 wall-clock), and
        # Monday 10:00 -> 14:00 (4 hours either way).
        self.weekend = (local(self.friday, 18), local(monday, 9, 30))
        self.monday = (local(monday, 10), local(monday, 14))
        for number, (a, b) in enumerate((self.weekend, self.monday), start=1):
            await add_ticket(s, number, Tier.FREE, TicketState.SOLVED, submitted=a,
                             response=b - a, responder=supporter)
        # Subscription: Friday 16:00 -> Tuesday 10:00 over a Monday holiday: 1 + 1 hours.
        tuesday = self.holiday + timedelta(days=1)
        self.over_holiday = (local(self.holiday_friday, 16), local(tuesday, 10))
        # Enterprise: Friday 16:00 -> Monday 10:00 across the daylight-saving change.
        self.over_dst = (local(self.dst_sunday - timedelta(days=2), 16),
                         local(self.dst_sunday + timedelta(days=1), 10))
        for number, tier, (a, b) in ((3, Tier.SUBSCRIPTION, self.over_holiday),
                                     (4, Tier.ENTERPRISE, self.over_dst)):
            await add_ticket(s, number, tier, TicketState.SOLVED, submitted=a,
                             response=b - a, responder=s.cast.lead)


@pytest.fixture
async def paris(client: httpx.AsyncClient) -> Paris:
    cast = await make_cast()
    category = (await ensure_default_categories(cast.project))[0]
    found = Paris(Seeded(cast, category, datetime.now(UTC)))
    await found.seed()
    return found


def only(values: list[Any], index: int) -> Any:
    assert [v for i, v in enumerate(values) if i != index] == [None] * (len(values) - 1)
    return values[index]


async def test_lead_business_hours_by_tier(client: httpx.AsyncClient, login: Login,
                                           paris: Paris) -> None:
    charts = await board(client, login, paris.s.cast.lead, "demo", "lead")
    median = charts["first-response-business-median"]
    p90 = charts["first-response-business-p90"]
    assert median["unit"] == p90["unit"] == "hours"
    assert median["title"] == "First response in business hours by tier (median)"
    assert "business calendar" in median["note"] and "Europe/Paris" in median["note"]
    assert median["labels"] == list(period_labels(MONTHS))
    assert set(series(median)) == {"Free", "Subscription", "Enterprise"}
    free = in_month(paris.weekend[1])
    assert only(series(median)["Free"], free) == 0.5  # nearest rank of [0.5, 4]
    assert only(series(p90)["Free"], free) == 4.0
    # The wall-clock charts stay as they were: [4, 63.5].
    assert series(charts["first-response-median"])["Free"][free] == 4.0
    assert series(charts["first-response-p90"])["Free"][free] == 63.5
    holiday = in_month(paris.over_holiday[1])
    assert only(series(median)["Subscription"], holiday) == 2.0
    assert only(series(p90)["Subscription"], holiday) == 2.0
    assert series(charts["first-response-median"])["Subscription"][holiday] == 90.0
    dst = in_month(paris.over_dst[1])
    assert only(series(median)["Enterprise"], dst) == 2.0
    assert only(series(p90)["Enterprise"], dst) == 2.0
    a, b = paris.over_dst
    wall = series(charts["first-response-median"])["Enterprise"][dst]
    assert wall == round((b - a).total_seconds() / 3600, 1) and wall in (65.0, 67.0)
    slugs = list(charts)
    assert slugs[slugs.index("first-response-median"):][:4] == [
        "first-response-median", "first-response-p90", "first-response-business-median",
        "first-response-business-p90"]


async def test_supporter_business_median(client: httpx.AsyncClient, login: Login,
                                         paris: Paris) -> None:
    supporter = paris.s.cast.supporter
    charts = await board(client, login, supporter, "demo", "supporter",
                         f"&username={supporter.username}")
    mine = series(charts["my-first-response"])
    free = in_month(paris.weekend[1])
    assert set(mine) == {"Median", "90th percentile", "Median in business hours"}
    assert only(mine["Median"], free) == 4.0
    assert only(mine["90th percentile"], free) == 63.5
    assert only(mine["Median in business hours"], free) == 0.5
    assert "Europe/Paris" in charts["my-first-response"]["note"]
    # The lead's answers (subscription, enterprise) are not the supporter's.
    lead = series((await board(client, login, paris.s.cast.lead, "demo", "supporter",
                               f"&username={paris.s.cast.lead.username}"))["my-first-response"])
    assert lead["Median in business hours"][in_month(paris.over_dst[1])] == 2.0


async def test_csv_and_page_carry_business_hours(client: httpx.AsyncClient, login: Login,
                                                 paris: Paris) -> None:
    await login(paris.s.cast.lead)
    response = await client.get(
        f"/p/demo/dashboard/lead/first-response-business-median.csv?months={MONTHS}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = [line.split(",") for line in response.text.strip().split("\r\n")]
    assert rows[0] == ["label", "Free (hours)", "Subscription (hours)", "Enterprise (hours)"]
    by_label = {row[0]: row[1:] for row in rows[1:]}
    assert by_label[month_label(paris.weekend[1].date())][0] == "0.5"
    assert by_label[month_label(paris.over_holiday[1].date())][1] == "2"
    page = await client.get(f"/p/demo/dashboard/lead?months={MONTHS}")
    assert page.status_code == 200
    assert "First response in business hours by tier (median)" in page.text
    # Customers get no lead board, business hours or not.
    await login(paris.s.cast.helper)
    refused = await client.get(
        f"/p/demo/dashboard/lead/first-response-business-median.csv?months={MONTHS}")
    assert refused.status_code in (403, 404)


async def test_round_the_clock_project_business_equals_wall_clock(
        client: httpx.AsyncClient, login: Login) -> None:
    cast = await make_cast("round")
    category = (await ensure_default_categories(cast.project))[0]
    s = Seeded(cast, category, datetime.now(UTC))
    await BusinessCalendar.create(project=cast.project, time_zone="America/New_York",
                                  hours=ALWAYS)
    year = datetime.now(UTC).year
    change = latest([nth_sunday(y, 3, 2) for y in (year - 1, year)]
                    + [nth_sunday(y, 11, 1) for y in (year - 1, year)])
    a = local(change - timedelta(days=2), 18, tz=NEW_YORK)  # Friday evening
    b = local(change + timedelta(days=1), 6, tz=NEW_YORK)  # Monday early
    await add_ticket(s, 1, Tier.FREE, TicketState.SOLVED, submitted=a, response=b - a)
    charts = await board(client, login, cast.lead, "round", "lead")
    month = in_month(b)
    wall = series(charts["first-response-median"])["Free"][month]
    assert wall in (59.0, 61.0)  # 60 local hours, one gained or lost
    assert series(charts["first-response-business-median"])["Free"][month] == wall
    assert series(charts["first-response-business-p90"])["Free"][month] == wall
    assert "America/New_York" in charts["first-response-business-median"]["note"]


@settings(max_examples=150, deadline=None)
@given(index=st.integers(0, len(CALENDARS) - 1), pairs=st.lists(
    st.tuples(instants, instants), min_size=1, max_size=8), outside=instants)
def test_business_clock_matches_business_seconds_between(
        index: int, pairs: list[tuple[datetime, datetime]], outside: datetime) -> None:
    cal: Calendar = CALENDARS[index]
    clock = BusinessClock(cal, min(min(p) for p in pairs), max(max(p) for p in pairs))
    for a, b in [*pairs, (outside, pairs[0][1]), (pairs[0][0], outside)]:
        expected = business_seconds_between(a, b, cal)
        assert clock.seconds_between(a, b) == expected
        assert clock.seconds_between_epochs(a.timestamp(), b.timestamp()) == expected
