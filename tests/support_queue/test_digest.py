"""The daily digest: the local hour in each supporter's zone across daylight-saving changes,
workdays only, a claim per (supporter, local date) so no digest goes twice (even with two
runs at once), catching up a missed slot the same day, and what the digest says."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from forum.platform import Platform
from forum.projects.models import Role
from forum.support_queue import digest
from forum.support_queue.team_models import (
    ActivityKind,
    DigestPreference,
    DigestRun,
    NotifyLevel,
    SupportActivity,
    TicketNotifyLevel,
)
from tests.factories import add_member, make_user
from tests.support import Login, post_form
from tests.support_queue.conftest import World, open_ticket

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("now", "expected"), [
    # Berlin, 08:00 local. Friday before the spring change: CET, UTC+1.
    (utc(2026, 3, 27, 6, 59), None),
    (utc(2026, 3, 27, 7, 0), date(2026, 3, 27)),
    # Monday after it (29 March): CEST, UTC+2, so 08:00 is 06:00 UTC.
    (utc(2026, 3, 30, 5, 59), None),
    (utc(2026, 3, 30, 6, 0), date(2026, 3, 30)),
    # The weekend in between, whatever the hour.
    (utc(2026, 3, 28, 12, 0), None),
    (utc(2026, 3, 29, 12, 0), None),
    # Autumn: Friday 23 October still CEST, Monday 26 October CET again.
    (utc(2026, 10, 23, 6, 0), date(2026, 10, 23)),
    (utc(2026, 10, 26, 6, 30), None),
    (utc(2026, 10, 26, 7, 0), date(2026, 10, 26)),
    # Late in the local day the same date is still due (catching up); after midnight
    # the next day waits for its own hour.
    (utc(2026, 10, 26, 22, 59), date(2026, 10, 26)),
    (utc(2026, 10, 26, 23, 0), None),
])
def test_berlin_hour_across_dst(now: datetime, expected: date | None) -> None:
    assert digest.Schedule(1, 8, BERLIN).due_date(now) == expected


@pytest.mark.parametrize(("now", "expected"), [
    # New York, 09:00 local. Friday 6 March: EST, UTC-5.
    (utc(2026, 3, 6, 13, 59), None),
    (utc(2026, 3, 6, 14, 0), date(2026, 3, 6)),
    # Monday 9 March (the change was on the 8th): EDT, UTC-4.
    (utc(2026, 3, 9, 13, 0), date(2026, 3, 9)),
    # Friday evening in New York is Saturday in UTC: still Friday's digest.
    (utc(2026, 3, 7, 2, 0), date(2026, 3, 6)),
    # Monday 02:00 UTC is Sunday evening in New York: nothing.
    (utc(2026, 3, 9, 2, 0), None),
    # November: Friday 30 October EDT, Monday 2 November EST.
    (utc(2026, 10, 30, 13, 0), date(2026, 10, 30)),
    (utc(2026, 11, 2, 13, 30), None),
    (utc(2026, 11, 2, 14, 0), date(2026, 11, 2)),
])
def test_new_york_hour_across_dst(now: datetime, expected: date | None) -> None:
    assert digest.Schedule(1, 9, NEW_YORK).due_date(now) == expected


def test_a_switched_off_digest_is_never_due() -> None:
    assert digest.Schedule(1, 0, BERLIN, enabled=False).due_date(utc(2026, 3, 30, 12)) is None


def test_next_digest_skips_weekends_and_follows_dst() -> None:
    schedule = digest.Schedule(1, 8, BERLIN)
    # Friday 27 March after the hour: next is Monday 30 March, 08:00 CEST.
    assert schedule.next_at(utc(2026, 3, 27, 9)) == utc(2026, 3, 30, 6)
    assert schedule.next_at(utc(2026, 3, 27, 6)) == utc(2026, 3, 27, 7)


# Runs


async def only_supporter(world: World, hour: int = 8, zone: str = "Europe/Berlin") -> None:
    """The world's supporter gets digests at ``hour`` in ``zone``; the other support roles
    have them switched off, so counts below are the supporter's."""
    for user in (world.owner, world.maintainer):
        await DigestPreference.create(user=user, enabled=False, hour=8, time_zone="UTC")
    await DigestPreference.create(user=world.supporter, hour=hour, time_zone=zone)


def digests_to(mailbox: Any, email: str) -> list[Any]:
    return [m for m in mailbox() if m["To"] == email and "support digest" in m["Subject"]]


async def test_once_per_local_day_and_catch_up(platform: Platform, world: World,
                                               run_jobs: Any, mailbox: Any) -> None:
    await only_supporter(world)
    await open_ticket(platform, world)  # the queue's top makes the digest worth sending
    monday = utc(2026, 3, 30, 5, 55)  # 07:55 in Berlin
    assert await digest.run_digests(platform, monday) == 0
    # Missed 08:00 (no run); the 14:00 run catches up the same local day.
    assert await digest.run_digests(platform, monday.replace(hour=12)) == 1
    assert await digest.run_digests(platform, monday.replace(hour=12, minute=5)) == 0
    assert await digest.run_digests(platform, monday.replace(hour=21, minute=55)) == 0
    # Tuesday gets its own; Saturday and Sunday nothing.
    assert await digest.run_digests(platform, utc(2026, 3, 31, 6, 0)) == 1
    assert await digest.run_digests(platform, utc(2026, 4, 4, 9, 0)) == 0
    assert await digest.run_digests(platform, utc(2026, 4, 5, 9, 0)) == 0
    runs = await DigestRun.filter(user_id=world.supporter.id).order_by("local_date")
    assert [r.local_date for r in runs] == [date(2026, 3, 30), date(2026, 3, 31)]
    assert all(r.sent_at is not None for r in runs)
    await run_jobs()
    assert len(digests_to(mailbox, world.supporter.email)) == 2


async def test_two_concurrent_runs_send_once(platform: Platform, world: World,
                                             run_jobs: Any, mailbox: Any) -> None:
    await only_supporter(world)
    await open_ticket(platform, world)
    now = utc(2026, 10, 26, 7, 0)
    results = await asyncio.gather(digest.run_digests(platform, now),
                                   digest.run_digests(platform, now))
    assert sorted(results) == [0, 1]
    assert await DigestRun.filter(user_id=world.supporter.id).count() == 1
    await run_jobs()
    assert len(digests_to(mailbox, world.supporter.email)) == 1


async def test_a_claimed_date_is_not_sent_again_by_another_worker(platform: Platform,
                                                                  world: World) -> None:
    await only_supporter(world)
    await open_ticket(platform, world)
    now = utc(2026, 3, 30, 6, 0)
    # Another worker claimed it and is still sending.
    assert await digest.claim(world.supporter.id, date(2026, 3, 30), now) is not None
    assert await digest.claim(world.supporter.id, date(2026, 3, 30), now) is None
    assert await digest.run_digests(platform, now) == 0


async def test_each_supporter_at_their_own_hour(platform: Platform, world: World) -> None:
    await only_supporter(world, 9, "America/New_York")
    other = await make_user(time_zone="Asia/Tokyo")  # no preference: 08:00 in their zone
    await add_member(world.project, other, Role.SUPPORTER)
    await open_ticket(platform, world)
    # Monday 9 March 2026 23:00 UTC is Tuesday 08:00 in Tokyo, Monday 19:00 in New York.
    assert await digest.run_digests(platform, utc(2026, 3, 9, 23, 0)) == 2
    dates = dict(await DigestRun.all().values_list("user_id", "local_date"))
    assert dates == {world.supporter.id: date(2026, 3, 9), other.id: date(2026, 3, 10)}


async def test_nothing_to_report_sends_nothing(platform: Platform, world: World) -> None:
    await only_supporter(world)
    assert await digest.run_digests(platform, utc(2026, 3, 30, 6, 0)) == 0
    run = await DigestRun.get(user_id=world.supporter.id)
    assert run.sent_at is None  # claimed all the same: no second look today


async def test_members_and_moderators_get_no_digest(platform: Platform, world: World) -> None:
    await only_supporter(world)
    await open_ticket(platform, world)
    await digest.run_digests(platform, utc(2026, 3, 30, 6, 0))
    assert {r.user_id for r in await DigestRun.all()} == {  # type: ignore[attr-defined]
        world.supporter.id}


# Content


async def test_digest_reports_activity_since_the_last_one(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any) -> None:
    await only_supporter(world)
    first = await open_ticket(platform, world, title="Crash on start")
    muted = await open_ticket(platform, world, title="Muted one")
    await TicketNotifyLevel.create(ticket=muted, user=world.supporter, level=NotifyLevel.MUTE)
    monday = utc(2026, 3, 30, 6, 0)
    await SupportActivity.create(user=world.supporter, ticket=first, kind=ActivityKind.UPDATE,
                                 summary="new message from ada", created_at=monday
                                 - timedelta(hours=3))
    await SupportActivity.create(user=world.supporter, ticket=muted,
                                 kind=ActivityKind.MENTION, summary="bob mentioned you",
                                 created_at=monday - timedelta(hours=2))
    assert await digest.run_digests(platform, monday) == 1
    # Tuesday: only what happened after Monday's digest.
    await SupportActivity.create(user=world.supporter, ticket=first,
                                 kind=ActivityKind.ASSIGNED, summary="assigned to you by eve",
                                 created_at=monday + timedelta(hours=5))
    assert await digest.run_digests(platform, monday + timedelta(days=1)) == 1
    await run_jobs()
    mails = digests_to(mailbox, world.supporter.email)
    assert len(mails) == 2
    monday_text = mails[0].get_body(("plain",)).get_content()
    tuesday_text = mails[1].get_body(("plain",)).get_content()
    ref = f"{world.project.slug.upper()}-{first.number}"
    assert f"[{ref}] Crash on start: new message from ada" in monday_text
    assert "bob mentioned you" not in monday_text  # muted
    assert "assigned to you by eve" not in monday_text
    assert "assigned to you by eve" in tuesday_text
    assert "new message from ada" not in tuesday_text
    # The top of the queue, in queue order, with the inbox link.
    assert "Top of the queue:" in monday_text
    assert monday_text.index("Crash on start (") < monday_text.index("Muted one (")
    assert f"/p/{world.project.slug}/inbox" in monday_text
    assert mails[0]["Subject"].startswith("Your support digest for Monday 30 March: 1 update")


async def test_top_of_queue_holds_ten(platform: Platform, world: World) -> None:
    for n in range(12):
        await open_ticket(platform, world, title=f"Ticket number {n}")
    top = await digest.top_of_queue(platform, world.project, datetime.now(UTC))
    assert [t["position"] for t in top] == list(range(1, 11))


# Preferences


async def test_preferences_page_and_api(client: httpx.AsyncClient, login: Login,
                                        world: World) -> None:
    assert (await client.get("/support/digest")).status_code == 303
    await login(world.supporter)
    page = await client.get("/support/digest")
    assert page.status_code == 200 and "Next digest" in page.text
    saved = await post_form(client, "/support/digest", {"enabled": "1", "hour": "7",
                                                        "time_zone": "Europe/Berlin"})
    assert saved.status_code == 303
    pref = await DigestPreference.get(user_id=world.supporter.id)
    assert (pref.enabled, pref.hour, pref.time_zone) == (True, 7, "Europe/Berlin")
    bad = await post_form(client, "/support/digest", {"hour": "25", "time_zone": "Mars/Base"})
    assert bad.status_code == 422
    assert (await DigestPreference.get(user_id=world.supporter.id)).hour == 7
    api = await client.put("/api/v1/support/digest-preference",
                           json={"enabled": True, "hour": 9, "time_zone": "America/New_York"})
    assert api.status_code == 200, api.text
    assert api.json()["hour"] == 9 and api.json()["next_digest_at"] is not None
    off = await client.put("/api/v1/support/digest-preference",
                           json={"enabled": False, "hour": 9, "time_zone": "UTC"})
    assert off.json()["next_digest_at"] is None
    wrong = await client.put("/api/v1/support/digest-preference",
                             json={"hour": 9, "time_zone": "Nowhere/City"})
    assert wrong.status_code == 422 and "time_zone" in wrong.json()["error"]["fields"]
    await login(None)
    assert (await client.get("/api/v1/support/digest-preference")).status_code == 401
