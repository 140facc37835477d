"""Due times: targets per tier and priority, the next response's clock, pauses, breach
status and the breaching query; the listeners that keep them on the ticket. Exact instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from forum import events
from forum.platform import Platform
from forum.support_queue.calendar import WEEKDAYS, default_calendar
from forum.support_queue.models import Ticket, TicketState, Tier
from forum.support_queue.sla import (
    DEFAULT_TARGETS,
    Breaching,
    Pause,
    Targets,
    breach_status,
    breaching,
    breaching_q,
    current_due,
    due_times,
    load_targets,
    priority_names,
    refresh_project,
    refresh_ticket,
)
from forum.support_queue.sla_models import BusinessCalendar, SlaPause, SlaPolicy, SlaSettings
from tests.support_queue.conftest import World, open_ticket

UTC_CAL = default_calendar("UTC")
ENTERPRISE_P1 = Targets(60, 120)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


MONDAY_9 = utc(2026, 3, 2, 9, 0)


def ticket(**fields: Any) -> Ticket:
    data: dict[str, Any] = {"state": TicketState.QUEUED, "submitted_at": MONDAY_9,
                            "last_requester_reaction_at": MONDAY_9, "tier": Tier.ENTERPRISE,
                            "priority": 1}
    data.update(fields)
    return Ticket(**data)


def test_default_targets_ladder() -> None:
    assert DEFAULT_TARGETS[Tier.ENTERPRISE][0] == Targets(60, 120)
    assert DEFAULT_TARGETS[Tier.ENTERPRISE][4] == Targets(960, 1920)
    assert DEFAULT_TARGETS[Tier.SUBSCRIPTION][0] == Targets(240, 480)
    assert DEFAULT_TARGETS[Tier.PAY_AS_YOU_GO][2] == Targets(1920, 3840)
    assert all(t == Targets() for t in DEFAULT_TARGETS[Tier.FREE])


async def test_first_response_due_in_business_time(db: None) -> None:
    cal = default_calendar("Europe/Berlin")
    # Friday 16:30 CET before the spring change + 60 min: Monday 09:30 CEST
    t = ticket(submitted_at=utc(2026, 3, 27, 15, 30))
    assert due_times(t, cal, ENTERPRISE_P1).first_response_due_at == utc(2026, 3, 30, 7, 30)
    assert due_times(t, cal, ENTERPRISE_P1).next_response_due_at is None


async def test_no_target_no_due_time(db: None) -> None:
    assert due_times(ticket(tier=Tier.FREE), UTC_CAL, Targets()) == due_times(
        ticket(), UTC_CAL, Targets())
    assert due_times(ticket(), UTC_CAL, Targets()).first_response_due_at is None


async def test_drafts_have_no_clock(db: None) -> None:
    draft = ticket(state=TicketState.DRAFT, submitted_at=None)
    due = due_times(draft, UTC_CAL, ENTERPRISE_P1)
    assert due.first_response_due_at is None and due.next_response_due_at is None


async def test_next_response_clock_starts_at_the_reaction_after_a_team_response(
        db: None) -> None:
    answered = utc(2026, 3, 2, 9, 40)
    reacted = utc(2026, 3, 2, 16, 30)
    t = ticket(first_response_at=answered, last_team_response_at=answered,
               last_requester_reaction_at=reacted)
    due = due_times(t, UTC_CAL, ENTERPRISE_P1)
    assert due.first_response_due_at == utc(2026, 3, 2, 10, 0)
    # 30 minutes left on Monday, 90 on Tuesday
    assert due.next_response_due_at == utc(2026, 3, 3, 10, 30)
    assert current_due(t) is None  # not stored yet
    # the team spoke last: nothing is due
    t2 = ticket(first_response_at=answered, last_team_response_at=reacted,
                last_requester_reaction_at=answered)
    assert due_times(t2, UTC_CAL, ENTERPRISE_P1).next_response_due_at is None


async def test_finished_pauses_move_the_due_time_by_their_business_time(db: None) -> None:
    t = ticket()
    assert due_times(t, UTC_CAL, Targets(240, None)).first_response_due_at == utc(
        2026, 3, 2, 13, 0)
    pauses = [Pause(utc(2026, 3, 2, 10, 0), utc(2026, 3, 2, 11, 30)),   # 90 business minutes
              Pause(utc(2026, 3, 2, 17, 30), utc(2026, 3, 2, 20, 0)),   # after hours: 0
              Pause(utc(2026, 3, 1, 10, 0), utc(2026, 3, 2, 9, 15)),    # 15 after submission
              Pause(utc(2026, 3, 2, 12, 0))]                           # still paused: not yet
    assert due_times(t, UTC_CAL, Targets(240, None), pauses).first_response_due_at == utc(
        2026, 3, 2, 14, 45)


async def test_pauses_after_the_first_response_do_not_move_it(db: None) -> None:
    answered = utc(2026, 3, 2, 9, 30)
    reacted = utc(2026, 3, 2, 11, 0)
    t = ticket(first_response_at=answered, last_team_response_at=answered,
               last_requester_reaction_at=reacted)
    pauses = [Pause(utc(2026, 3, 2, 10, 0), utc(2026, 3, 2, 10, 30)),  # before the reaction
              Pause(utc(2026, 3, 2, 11, 15), utc(2026, 3, 2, 11, 45))]  # in the next cycle
    due = due_times(t, UTC_CAL, ENTERPRISE_P1, pauses)
    assert due.first_response_due_at == utc(2026, 3, 2, 10, 0)
    assert due.next_response_due_at == utc(2026, 3, 2, 13, 30)  # 11:00 + 2h + 30 min


async def test_solved_ticket_keeps_its_first_due_time_only(db: None) -> None:
    t = ticket(state=TicketState.SOLVED, first_response_at=utc(2026, 3, 2, 9, 30),
               last_team_response_at=utc(2026, 3, 2, 9, 30),
               last_requester_reaction_at=utc(2026, 3, 2, 10, 0))
    due = due_times(t, UTC_CAL, ENTERPRISE_P1)
    assert due.first_response_due_at == utc(2026, 3, 2, 10, 0)
    assert due.next_response_due_at is None
    assert breach_status(t, utc(2026, 3, 9)) == "ok"


async def test_breach_status(db: None) -> None:
    due = utc(2026, 3, 2, 10, 0)
    t = ticket(first_response_due_at=due)
    assert breach_status(t, utc(2026, 3, 2, 8, 59)) == "ok"
    assert breach_status(t, utc(2026, 3, 2, 9, 0)) == "soon"  # exactly 60 minutes left
    assert breach_status(t, utc(2026, 3, 2, 9, 59)) == "soon"
    assert breach_status(t, due) == "breached"
    assert breach_status(t, utc(2026, 3, 2, 9, 50), lead=timedelta(minutes=5)) == "ok"
    # answered: the next response counts, and none is due
    answered = ticket(first_response_due_at=due, first_response_at=utc(2026, 3, 2, 11))
    assert breach_status(answered, utc(2026, 3, 2, 12)) == "ok"
    # paused: the clock stands still
    paused = ticket(state=TicketState.ON_HOLD, first_response_due_at=due,
                    paused_at=utc(2026, 3, 2, 9, 30))
    assert breach_status(paused, utc(2026, 3, 5)) == "ok"
    late = ticket(state=TicketState.WAITING, first_response_due_at=due,
                  paused_at=utc(2026, 3, 2, 10, 30))
    assert breach_status(late, utc(2026, 3, 5)) == "breached"


async def _ticket_at(platform: Platform, world: World, tier: Tier = Tier.ENTERPRISE,
                     priority: int = 1, submitted_at: datetime = MONDAY_9,
                     **fields: Any) -> Ticket:
    t = await open_ticket(platform, world)
    await Ticket.filter(id=t.id).update(tier=tier, priority=priority, submitted_at=submitted_at,
                                        last_requester_reaction_at=submitted_at, **fields)
    refreshed = await refresh_ticket(t.id)
    assert refreshed is not None
    return refreshed


async def test_submission_sets_the_first_due_time(platform: Platform, world: World) -> None:
    t = await open_ticket(platform, world)
    stored = await Ticket.get(id=t.id)
    assert stored.submitted_at is not None
    assert stored.first_response_due_at is None  # free tier: no target
    await Ticket.filter(id=t.id).update(tier=Tier.ENTERPRISE, priority=1)
    await platform.emit(events.TicketSubmitted(project=world.project.id, ticket_id=t.id,
                                               topic_id=t.topic_id,  # type: ignore[attr-defined]
                                               requester_id=world.member.id))
    stored = await Ticket.get(id=t.id)
    assert stored.first_response_due_at is not None
    assert stored.first_response_due_at > stored.submitted_at


async def test_refresh_follows_project_targets_and_calendar(platform: Platform,
                                                            world: World) -> None:
    t = await _ticket_at(platform, world)
    assert t.first_response_due_at == utc(2026, 3, 2, 10, 0)
    await SlaPolicy.create(project_id=world.project.id, tier=Tier.ENTERPRISE, priority=1,
                           first_response_minutes=30, next_response_minutes=None)
    assert await load_targets(world.project.id, Tier.ENTERPRISE, 1) == Targets(30, None)
    await BusinessCalendar.create(project_id=world.project.id, time_zone="America/New_York",
                                  hours={"mon": ["09:00-17:00"]}, holidays=[])
    assert await refresh_project(world.project.id) == 1
    stored = await Ticket.get(id=t.id)
    # Monday 09:00 UTC is 04:00 in New York (EST): opens at 14:00 UTC
    assert stored.first_response_due_at == utc(2026, 3, 2, 14, 30)


async def test_a_pause_moves_due_times_through_the_events(platform: Platform,
                                                          world: World) -> None:
    t = await _ticket_at(platform, world)
    project = world.project.id
    assert t.first_response_due_at == utc(2026, 3, 2, 10, 0)
    # on hold at 09:20 (as the state verb writes it), back in the queue at 09:50
    await Ticket.filter(id=t.id).update(state=TicketState.ON_HOLD,
                                        paused_at=utc(2026, 3, 2, 9, 20))
    await platform.emit(events.TicketStateChanged(project=project, ticket_id=t.id,
                                                  actor_id=world.supporter.id,
                                                  old="queued", new="on_hold"))
    assert (await Ticket.get(id=t.id)).first_response_due_at == utc(2026, 3, 2, 10, 0)
    assert await SlaPause.filter(ticket_id=t.id, ended_at=None).count() == 1
    await Ticket.filter(id=t.id).update(state=TicketState.QUEUED, paused_at=None,
                                        paused_seconds=1800)
    await platform.emit(events.TicketStateChanged(project=project, ticket_id=t.id,
                                                  actor_id=world.supporter.id,
                                                  old="on_hold", new="queued"))
    pause = await SlaPause.get(ticket_id=t.id)
    assert (pause.started_at, pause.ended_at) == (utc(2026, 3, 2, 9, 20), utc(2026, 3, 2, 9, 50))
    assert (await Ticket.get(id=t.id)).first_response_due_at == utc(2026, 3, 2, 10, 30)
    # a second pause adds to the first: 10:00-10:15
    await Ticket.filter(id=t.id).update(state=TicketState.WAITING,
                                        paused_at=utc(2026, 3, 2, 10, 0))
    await refresh_ticket(t.id)
    await Ticket.filter(id=t.id).update(state=TicketState.QUEUED, paused_at=None,
                                        paused_seconds=1800 + 900)
    await refresh_ticket(t.id)
    assert (await Ticket.get(id=t.id)).first_response_due_at == utc(2026, 3, 2, 10, 45)


async def test_responses_start_and_stop_the_next_clock(platform: Platform,
                                                       world: World) -> None:
    t = await _ticket_at(platform, world)
    answered = utc(2026, 3, 2, 9, 30)
    await Ticket.filter(id=t.id).update(first_response_at=answered,
                                        last_team_response_at=answered)
    await platform.emit(events.TicketResponded(project=world.project.id, ticket_id=t.id,
                                               post_id=1, by_team=True, first=True))
    stored = await Ticket.get(id=t.id)
    assert stored.next_response_due_at is None
    assert stored.first_response_due_at == utc(2026, 3, 2, 10, 0)
    await Ticket.filter(id=t.id).update(last_requester_reaction_at=utc(2026, 3, 2, 16, 0))
    await platform.emit(events.TicketResponded(project=world.project.id, ticket_id=t.id,
                                               post_id=2, by_team=False, first=False))
    stored = await Ticket.get(id=t.id)
    assert stored.next_response_due_at == utc(2026, 3, 3, 10, 0)
    assert current_due(stored) == ("next_response", utc(2026, 3, 3, 10, 0))


async def test_breaching_lists_open_running_tickets_most_urgent_first(
        platform: Platform, world: World) -> None:
    early = await _ticket_at(platform, world, submitted_at=utc(2026, 3, 2, 9, 0))
    later = await _ticket_at(platform, world, submitted_at=utc(2026, 3, 2, 9, 30))
    far = await _ticket_at(platform, world, priority=5)  # 16 business hours
    paused = await _ticket_at(platform, world, submitted_at=utc(2026, 3, 2, 8, 0))
    await Ticket.filter(id=paused.id).update(state=TicketState.ON_HOLD,
                                             paused_at=utc(2026, 3, 2, 9, 5))
    solved = await _ticket_at(platform, world)
    await Ticket.filter(id=solved.id).update(state=TicketState.SOLVED)
    await _ticket_at(platform, world, tier=Tier.FREE)
    answered = await _ticket_at(platform, world)
    await Ticket.filter(id=answered.id).update(first_response_at=utc(2026, 3, 2, 9, 10),
                                               last_team_response_at=utc(2026, 3, 2, 9, 10))
    await refresh_ticket(answered.id)

    now = utc(2026, 3, 2, 10, 15)
    found = await breaching(world.project.id, now)
    assert (found.ids, found.count) == ([early.id], 1)
    found = await breaching(world.project.id, now, timedelta(minutes=60))
    assert (found.ids, found.count) == ([early.id, later.id], 2)
    found = await breaching(world.project.id, now, timedelta(days=30), limit=2)
    assert found.ids == [early.id, later.id] and found.count == 3
    # answered tickets count by their next due time: the requester reacted at 09:20
    await Ticket.filter(id=answered.id).update(
        last_requester_reaction_at=utc(2026, 3, 2, 9, 20))
    await refresh_ticket(answered.id)  # next response due 11:20
    found = await breaching(world.project.id, now, timedelta(days=30))
    assert found.ids == [early.id, later.id, answered.id, far.id]
    assert (await breaching(world.project.id, now, timedelta(days=30), limit=0)) == (
        Breaching([], 4))
    in_an_hour = Ticket.filter(Q(project_id=world.project.id),
                               breaching_q(now, timedelta(minutes=60)))
    assert sorted(await in_an_hour.values_list("id", flat=True)) == [early.id, later.id]
    assert far.id not in (await breaching(world.project.id, now, timedelta(hours=2))).ids
    other = await breaching(world.project.id + 1000, now, timedelta(days=30))
    assert (other.ids, other.count) == ([], 0)


async def test_priority_names_default_and_custom(db: None, world: World) -> None:
    names = await priority_names(world.project.id)
    assert names[0] == "Everything is down" and names[4] == "A request"
    await SlaSettings.create(project_id=world.project.id,
                             priority_names=["Fire", "Smoke", "", "Question", "Wish"])
    assert await priority_names(world.project.id) == [
        "Fire", "Smoke", "Something is broken", "Question", "Wish"]


async def test_the_ticket_verbs_keep_the_due_times(platform: Platform, world: World) -> None:
    """Through the real verbs: set_tier sets targets, on hold pauses, the reply of the team
    and the requester's reaction start and stop the clocks (open round the clock, so the
    arithmetic is plain)."""
    from forum.support_queue.permissions import access_ticket
    from forum.support_queue.responses import record_post
    from forum.support_queue.states import do_set_state, set_tier

    await BusinessCalendar.create(project_id=world.project.id, time_zone="UTC",
                                  hours={day: ["00:00-24:00"] for day in WEEKDAYS})
    opened = await open_ticket(platform, world)
    ticket = await set_tier(platform, world.owner, opened, Tier.ENTERPRISE, 0, priority=1)
    submitted = ticket.submitted_at
    assert submitted is not None
    assert ticket.first_response_due_at == submitted + timedelta(minutes=60)
    ctx = await access_ticket(world.supporter, ticket.id)
    await do_set_state(platform, ctx, TicketState.ON_HOLD, now=submitted + timedelta(minutes=10))
    ctx = await access_ticket(world.supporter, ticket.id)
    await do_set_state(platform, ctx, TicketState.QUEUED, now=submitted + timedelta(minutes=35))
    stored = await Ticket.get(id=ticket.id)
    assert stored.paused_seconds == 25 * 60
    assert stored.first_response_due_at == submitted + timedelta(minutes=85)
    # the team answers, then the requester reacts: the next response is due 2h later
    answered = submitted + timedelta(minutes=40)
    await record_post(platform, events.PostCreated(
        project=world.project.id, topic_id=ticket.topic_id,  # type: ignore[attr-defined]
        post_id=1, author_id=world.supporter.id, number=2, reply_to_post_id=None), now=answered)
    stored = await Ticket.get(id=ticket.id)
    assert stored.first_response_at == answered and stored.next_response_due_at is None
    reacted = submitted + timedelta(minutes=50)
    await record_post(platform, events.PostCreated(
        project=world.project.id, topic_id=ticket.topic_id,  # type: ignore[attr-defined]
        post_id=2, author_id=world.member.id, number=3, reply_to_post_id=None), now=reacted)
    stored = await Ticket.get(id=ticket.id)
    assert stored.next_response_due_at == reacted + timedelta(minutes=120)
    assert stored.first_response_due_at == submitted + timedelta(minutes=85)
    # P3 instead: 4h first response, 8h next
    stored = await set_tier(platform, world.owner, stored, Tier.ENTERPRISE, 0, priority=3)
    assert stored.next_response_due_at == reacted + timedelta(hours=8)


async def test_a_pause_after_the_due_time_does_not_move_it(db: None) -> None:
    """Breached at 10:00, put on hold at 11:00: still due 10:00 (no amnesty by pausing)."""
    pauses = [Pause(utc(2026, 3, 2, 11, 0), utc(2026, 3, 2, 12, 0))]
    assert due_times(ticket(), UTC_CAL, ENTERPRISE_P1, pauses).first_response_due_at == utc(
        2026, 3, 2, 10, 0)
    # a pause straddling the due time moves it by its whole length: 09:30-10:30
    pauses = [Pause(utc(2026, 3, 2, 9, 30), utc(2026, 3, 2, 10, 30))]
    assert due_times(ticket(), UTC_CAL, ENTERPRISE_P1, pauses).first_response_due_at == utc(
        2026, 3, 2, 11, 0)


async def test_a_calendar_without_business_time_gives_no_due_time(db: None) -> None:
    from forum.support_queue.calendar import Calendar

    closed = Calendar(UTC_CAL.tz, ((),) * 7)
    due = due_times(ticket(), closed, ENTERPRISE_P1)
    assert due == due_times(ticket(), closed, Targets())
    assert due.first_response_due_at is None
