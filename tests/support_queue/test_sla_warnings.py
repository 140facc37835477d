"""Breach warnings: who is mailed, when, and never twice for one due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from forum.platform import Platform
from forum.support_queue.calendar import WEEKDAYS
from forum.support_queue.models import Ticket, TicketState, Tier
from forum.support_queue.sla import refresh_ticket
from forum.support_queue.sla_models import BusinessCalendar, SlaSettings, SlaWarning
from forum.support_queue.sla_plugin import WARNING_JOB
from forum.support_queue.sla_warnings import send_warnings
from forum.support_queue.team_models import NotifyLevel, TicketNotifyLevel
from tests.support_queue.conftest import World, open_ticket


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


SUBMITTED = utc(2026, 3, 2, 9, 0)  # a Monday; enterprise P1: first response due 10:00
NOW = utc(2026, 3, 2, 9, 10)


async def enterprise_ticket(platform: Platform, world: World, *, priority: int = 1,
                            submitted_at: datetime = SUBMITTED, **fields: Any) -> Ticket:
    ticket = await open_ticket(platform, world)
    await Ticket.filter(id=ticket.id).update(tier=Tier.ENTERPRISE, priority=priority,
                                             submitted_at=submitted_at,
                                             last_requester_reaction_at=submitted_at,
                                             **fields)
    refreshed = await refresh_ticket(ticket.id)
    assert refreshed is not None
    return refreshed


def warnings_in(mailbox: Any) -> list[Any]:
    """The breach warnings among the mail sent (the requester gets an acknowledgement)."""
    return [m for m in mailbox() if str(m["Subject"]).split("] ", 1)[-1].startswith(
        ("First response", "Next response"))]


def recipients(mailbox: Any) -> list[str]:
    return sorted(str(m["To"]) for m in warnings_in(mailbox))


async def test_unassigned_ticket_warns_the_whole_team_once(platform: Platform, world: World,
                                                           run_jobs: Any, mailbox: Any
                                                           ) -> None:
    ticket = await enterprise_ticket(platform, world)
    warned = await send_warnings(platform, NOW)
    assert [(w.ticket_id, w.kind, w.due_at) for w in warned] == [
        (ticket.id, "first_response", utc(2026, 3, 2, 10, 0))]
    await run_jobs()
    team = [world.owner, world.maintainer, world.moderator, world.supporter]
    assert recipients(mailbox) == sorted(u.email for u in team)
    reference = f"{world.project.slug.upper()}-{ticket.number}"
    message = warnings_in(mailbox)[0]
    subject = " ".join(str(message["Subject"]).split())  # unfolded
    assert subject == (f"[{reference}] First response due in 50 minutes: "
                       "The parser crashes on empty input")
    body = message.get_body(("plain",)).get_content()
    assert "Mon 02 Mar 2026 10:00 UTC" in body
    assert "P1 · Everything is down, enterprise, not assigned to anyone yet" in body
    assert f"/t/{ticket.topic_id}-" in body  # type: ignore[attr-defined]
    # the next run, or another worker, sends nothing for the same due time
    assert await send_warnings(platform, NOW + timedelta(minutes=5)) == []
    await run_jobs()
    assert len(warnings_in(mailbox)) == 4
    assert await SlaWarning.filter(ticket_id=ticket.id).count() == 1


async def test_assigned_ticket_warns_its_assignee_only(platform: Platform, world: World,
                                                       run_jobs: Any, mailbox: Any) -> None:
    await enterprise_ticket(platform, world, assignee_id=world.supporter.id,
                            state=TicketState.ASSIGNED)
    assert len(await send_warnings(platform, NOW)) == 1
    await run_jobs()
    assert recipients(mailbox) == [world.supporter.email]
    assert "You are its assignee." in warnings_in(mailbox)[0].get_body(("plain",)).get_content()


async def test_a_claimed_due_time_is_not_warned_again(platform: Platform, world: World,
                                                      run_jobs: Any, mailbox: Any) -> None:
    ticket = await enterprise_ticket(platform, world)
    await SlaWarning.create(ticket_id=ticket.id, kind="first_response",
                            due_at=utc(2026, 3, 2, 10, 0))  # another worker got there first
    assert await send_warnings(platform, NOW) == []
    await run_jobs()
    assert warnings_in(mailbox) == []


async def test_only_due_times_within_the_lead(platform: Platform, world: World) -> None:
    await enterprise_ticket(platform, world, priority=2)  # due 11:00: 110 minutes away
    assert await send_warnings(platform, NOW) == []
    assert await send_warnings(platform, utc(2026, 3, 2, 9, 59)) == []
    assert len(await send_warnings(platform, utc(2026, 3, 2, 10, 0))) == 1


async def test_the_project_chooses_its_lead(platform: Platform, world: World) -> None:
    await SlaSettings.create(project_id=world.project.id, warning_lead_minutes=180)
    ticket = await enterprise_ticket(platform, world, priority=2)
    assert [w.ticket_id for w in await send_warnings(platform, NOW)] == [ticket.id]


async def test_paused_stale_free_and_solved_tickets_are_left_alone(
        platform: Platform, world: World) -> None:
    paused = await enterprise_ticket(platform, world)
    await Ticket.filter(id=paused.id).update(state=TicketState.ON_HOLD,
                                             paused_at=utc(2026, 3, 2, 9, 5))
    solved = await enterprise_ticket(platform, world)
    await Ticket.filter(id=solved.id).update(state=TicketState.SOLVED)
    await open_ticket(platform, world)  # free: no due time
    stale = await enterprise_ticket(platform, world, submitted_at=utc(2026, 2, 27, 9, 0))
    assert stale.first_response_due_at == utc(2026, 2, 27, 10, 0)
    assert await send_warnings(platform, NOW) == []


async def test_a_moved_due_time_warns_again(platform: Platform, world: World) -> None:
    ticket = await enterprise_ticket(platform, world)
    assert len(await send_warnings(platform, NOW)) == 1
    # paused 09:15-09:45: the due time moves to 10:30
    await Ticket.filter(id=ticket.id).update(state=TicketState.ON_HOLD,
                                             paused_at=utc(2026, 3, 2, 9, 15))
    await refresh_ticket(ticket.id)
    await Ticket.filter(id=ticket.id).update(state=TicketState.QUEUED, paused_at=None,
                                             paused_seconds=1800)
    moved = await refresh_ticket(ticket.id)
    assert moved is not None and moved.first_response_due_at == utc(2026, 3, 2, 10, 30)
    warned = await send_warnings(platform, utc(2026, 3, 2, 9, 50))
    assert [w.due_at for w in warned] == [utc(2026, 3, 2, 10, 30)]


async def test_next_response_warnings(platform: Platform, world: World) -> None:
    ticket = await enterprise_ticket(platform, world)
    await Ticket.filter(id=ticket.id).update(
        first_response_at=utc(2026, 3, 2, 9, 5), last_team_response_at=utc(2026, 3, 2, 9, 5),
        last_requester_reaction_at=utc(2026, 3, 2, 9, 30))
    await refresh_ticket(ticket.id)  # next response due 11:30
    assert await send_warnings(platform, utc(2026, 3, 2, 10, 29)) == []
    warned = await send_warnings(platform, utc(2026, 3, 2, 10, 31))
    assert [(w.kind, w.due_at) for w in warned] == [("next_response", utc(2026, 3, 2, 11, 30))]


async def test_the_cron_runs_the_job(platform: Platform, world: World, run_jobs: Any) -> None:
    crons = [c for group in platform.plugins.pm.hook.forum_cron() for c in group or []]
    entry = next(c for c in crons if c.job == WARNING_JOB)
    assert entry.minute == set(range(0, 60, 5))
    # open round the clock, so "30 minutes ago" is 30 business minutes whenever this runs
    await BusinessCalendar.create(project_id=world.project.id, time_zone="UTC",
                                  hours={day: ["00:00-24:00"] for day in WEEKDAYS})
    ticket = await enterprise_ticket(platform, world,
                                     submitted_at=datetime.now(UTC) - timedelta(minutes=30))
    await platform.enqueue(WARNING_JOB)
    await run_jobs()
    warning = await SlaWarning.get(ticket_id=ticket.id)
    assert warning.due_at == ticket.first_response_due_at
    assert warning.recipients == 4


async def test_muting_an_unassigned_ticket_spares_that_supporter(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any) -> None:
    ticket = await enterprise_ticket(platform, world)
    await TicketNotifyLevel.create(ticket_id=ticket.id, user_id=world.moderator.id,
                                   level=NotifyLevel.MUTE)
    await TicketNotifyLevel.create(ticket_id=ticket.id, user_id=world.owner.id,
                                   level=NotifyLevel.EVERY)
    assert len(await send_warnings(platform, NOW)) == 1
    await run_jobs()
    assert recipients(mailbox) == sorted(
        u.email for u in (world.owner, world.maintainer, world.supporter))


async def test_the_assignee_is_warned_even_when_muted(platform: Platform, world: World,
                                                      run_jobs: Any, mailbox: Any) -> None:
    ticket = await enterprise_ticket(platform, world, assignee_id=world.supporter.id,
                                     state=TicketState.ASSIGNED)
    await TicketNotifyLevel.create(ticket_id=ticket.id, user_id=world.supporter.id,
                                   level=NotifyLevel.MUTE)
    await send_warnings(platform, NOW)
    await run_jobs()
    assert recipients(mailbox) == [world.supporter.email]


async def test_losing_the_claim_to_another_worker_sends_nothing(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Another worker claims the due time after this run looked (the unique row decides)."""
    from forum.support_queue import sla_warnings

    ticket = await enterprise_ticket(platform, world)
    original = sla_warnings.recipients_for

    async def racing(t: Ticket) -> list[Any]:
        await SlaWarning.create(ticket_id=t.id, kind="first_response",
                                due_at=t.first_response_due_at)
        return await original(t)

    monkeypatch.setattr(sla_warnings, "recipients_for", racing)
    assert await send_warnings(platform, NOW) == []
    await run_jobs()
    assert warnings_in(mailbox) == []
    assert await SlaWarning.filter(ticket_id=ticket.id).count() == 1
