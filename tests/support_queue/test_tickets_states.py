"""Ticket states: who may set which, the paused clock, reopening within the grace period,
assignment, and what posts in a ticket change (responses and the requester's reactions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum import events
from forum.platform import Platform
from forum.support_queue.models import Ticket, TicketState, Tier
from forum.support_queue.permissions import REOPEN_GRACE, access_ticket
from forum.support_queue.states import (
    assign,
    check_set_state,
    do_set_state,
    set_state,
    set_tier,
    state_changes,
)
from forum.topics.models import Topic, TopicState
from forum.web.errors import Conflict, Forbidden, Invalid
from tests.support_queue.conftest import World, open_ticket
from tests.topics.conftest import answer

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_waiting_and_on_hold_pause_the_clock() -> None:
    ticket = Ticket(state=TicketState.QUEUED, paused_seconds=0, paused_at=None)
    paused = state_changes(ticket, TicketState.WAITING, T0)
    assert paused["paused_at"] == T0 and "paused_seconds" not in paused
    ticket.state, ticket.paused_at = TicketState.WAITING, T0
    # Moving between two paused states keeps the one pause running.
    assert "paused_at" not in state_changes(ticket, TicketState.ON_HOLD, T0 + timedelta(hours=1))
    resumed = state_changes(ticket, TicketState.QUEUED, T0 + timedelta(hours=2, seconds=5))
    assert resumed["paused_at"] is None and resumed["paused_seconds"] == 7205
    ticket.paused_seconds = 100
    closed = state_changes(ticket, TicketState.SOLVED, T0 + timedelta(seconds=10))
    assert closed["paused_seconds"] == 110 and closed["solved_at"] == T0 + timedelta(seconds=10)


async def test_pause_is_accumulated_in_the_database(platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    ctx = await access_ticket(world.supporter, ticket.id)
    await do_set_state(platform, ctx, TicketState.ON_HOLD, now=T0)
    assert (await Ticket.get(id=ticket.id)).paused_at == T0
    ctx = await access_ticket(world.supporter, ticket.id)
    await do_set_state(platform, ctx, TicketState.QUEUED, now=T0 + timedelta(minutes=30))
    stored = await Ticket.get(id=ticket.id)
    assert stored.paused_at is None and stored.paused_seconds == 1800
    assert stored.state == TicketState.QUEUED


async def test_the_requester_solves_closes_and_reopens_within_the_grace_period(
        platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    ctx = await access_ticket(world.member, ticket.id)
    for wanted in ("waiting", "on_hold", "queued"):
        with pytest.raises(Forbidden):
            check_set_state(ctx, wanted)
    await set_state(platform, ctx, "closed")
    stored = await Ticket.get(id=ticket.id)
    assert stored.state == TicketState.CLOSED and stored.closed_at is not None
    assert (await Topic.get(id=ticket.topic_id)).state == TopicState.CLOSED  # type: ignore[attr-defined]
    ctx = await access_ticket(world.member, ticket.id)
    late = stored.closed_at + REOPEN_GRACE + timedelta(minutes=1)
    with pytest.raises(Forbidden, match="too long ago"):
        check_set_state(ctx, "reopen", now=late)
    assert check_set_state(ctx, "reopen", now=stored.closed_at + timedelta(days=1)) == (
        TicketState.QUEUED)
    await set_state(platform, ctx, "reopen")
    stored = await Ticket.get(id=ticket.id)
    assert stored.state == TicketState.QUEUED and stored.closed_at is None
    assert (await Topic.get(id=ticket.topic_id)).state == TopicState.OPEN  # type: ignore[attr-defined]


async def test_the_team_reopens_whenever(platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    await set_state(platform, await access_ticket(world.supporter, ticket.id), "solved")
    await Ticket.filter(id=ticket.id).update(solved_at=T0 - timedelta(days=365))
    ctx = await access_ticket(world.supporter, ticket.id)
    assert check_set_state(ctx, "reopen") == TicketState.QUEUED


async def test_readers_and_drafts(platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    ctx = await access_ticket(world.outsider, ticket.id)
    with pytest.raises(Forbidden):
        check_set_state(ctx, "solved")
    draft = await open_ticket(platform, world, submit=False)
    with pytest.raises(Conflict):
        check_set_state(await access_ticket(world.supporter, draft.id), "solved")
    team = await access_ticket(world.supporter, ticket.id)
    with pytest.raises(Invalid):
        check_set_state(team, "assigned")
    with pytest.raises(Invalid):
        check_set_state(team, "draft")
    with pytest.raises(Conflict):
        check_set_state(team, "reopen")


async def test_solving_names_everyone_but_the_requester_who_posted(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    ticket = await open_ticket(platform, world)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    await answer(platform, world, topic, world.supporter, "Try the --safe flag.")
    await answer(platform, world, topic, world.outsider, "That flag fixed it for me too.")
    await answer(platform, world, topic, world.member, "Thanks, it works.")
    ctx = await access_ticket(world.supporter, ticket.id)
    await set_tier(platform, world.supporter, ctx.ticket, Tier.PAY_AS_YOU_GO, 2500)
    await set_state(platform, ctx, "solved")
    resolved = [e for e in emitted if isinstance(e, events.TicketResolved)]
    assert resolved == [events.TicketResolved(
        project=world.project.id, ticket_id=ticket.id, requester_id=world.member.id,
        tier="pay_as_you_go", amount_paid=2500, currency="USD",
        answer_author_ids=tuple(sorted((world.supporter.id, world.outsider.id))))]
    changed = [e for e in emitted if isinstance(e, events.TicketStateChanged)]
    assert (changed[-1].old, changed[-1].new, changed[-1].actor_id) == (
        "queued", "solved", world.supporter.id)


async def test_assignment_moves_between_queued_and_assigned(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    ticket = await open_ticket(platform, world)
    ctx = await access_ticket(world.maintainer, ticket.id)
    await assign(platform, ctx, world.supporter.username)
    assert (await Ticket.get(id=ticket.id)).state == TicketState.ASSIGNED
    await assign(platform, await access_ticket(world.maintainer, ticket.id),
                 world.owner.username)
    await assign(platform, await access_ticket(world.maintainer, ticket.id), None)
    stored = await Ticket.get(id=ticket.id)
    assert stored.state == TicketState.QUEUED and stored.assignee_id is None  # type: ignore[attr-defined]
    assigned = [(e.assignee_id, e.actor_id) for e in emitted
                if isinstance(e, events.TicketAssigned)]
    assert assigned == [(world.supporter.id, world.maintainer.id),
                        (world.owner.id, world.maintainer.id), (None, world.maintainer.id)]
    with pytest.raises(Forbidden):
        await assign(platform, await access_ticket(world.member, ticket.id),
                     world.supporter.username)


async def test_team_posts_are_responses(platform: Platform, world: World,
                                        emitted: list[events.Event]) -> None:
    ticket = await open_ticket(platform, world)
    await assign(platform, await access_ticket(world.supporter, ticket.id),
                 world.supporter.username)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    first = await answer(platform, world, topic, world.supporter, "Which version exactly?")
    stored = await Ticket.get(id=ticket.id)
    assert stored.first_response_at is not None
    assert stored.last_team_response_at == stored.first_response_at
    assert stored.state == TicketState.ASSIGNED  # the team sets "waiting" itself
    second = await answer(platform, world, topic, world.maintainer, "Also: which OS?")
    again = await Ticket.get(id=ticket.id)
    assert again.first_response_at == stored.first_response_at
    # The first responder stays the supporter, who answered first.
    assert again.first_responder_id == world.supporter.id  # type: ignore[attr-defined]
    assert again.last_team_response_at is not None
    assert again.last_team_response_at >= stored.last_team_response_at  # type: ignore[operator]
    responded = [(e.post_id, e.by_team, e.first) for e in emitted
                 if isinstance(e, events.TicketResponded)]
    assert responded == [(first.id, True, True), (second.id, True, False)]


async def test_the_requesters_reply_takes_a_waiting_ticket_back_into_the_queue(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    ticket = await open_ticket(platform, world)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    await answer(platform, world, topic, world.supporter, "Please send the log.")
    await set_state(platform, await access_ticket(world.supporter, ticket.id), "waiting")
    waiting = await Ticket.get(id=ticket.id)
    assert waiting.paused_at is not None
    await Ticket.filter(id=ticket.id).update(paused_at=waiting.paused_at - timedelta(hours=1))
    reaction_before = waiting.last_requester_reaction_at
    # A bystander's post changes no clock.
    await answer(platform, world, topic, world.outsider, "Same here.")
    assert (await Ticket.get(id=ticket.id)).state == TicketState.WAITING
    assert (await Ticket.get(id=ticket.id)).last_requester_reaction_at == reaction_before
    await answer(platform, world, topic, world.member, "Here is the log.")
    back = await Ticket.get(id=ticket.id)
    assert back.state == TicketState.QUEUED and back.paused_at is None
    assert back.paused_seconds >= 3600
    assert back.last_requester_reaction_at is not None
    assert back.last_requester_reaction_at > reaction_before  # type: ignore[operator]
    requester_posts = [e for e in emitted if isinstance(e, events.TicketResponded)
                       and not e.by_team]
    assert len(requester_posts) == 2
    changed = [e for e in emitted if isinstance(e, events.TicketStateChanged)]
    assert (changed[-1].old, changed[-1].new, changed[-1].actor_id) == (
        "waiting", "queued", world.member.id)


async def test_posts_in_drafts_change_nothing(platform: Platform, world: World,
                                              emitted: list[events.Event]) -> None:
    draft = await open_ticket(platform, world, submit=False)
    topic = await Topic.get(id=draft.topic_id)  # type: ignore[attr-defined]
    await answer(platform, world, topic, world.supporter, "Please submit it first.")
    stored = await Ticket.get(id=draft.id)
    assert stored.first_response_at is None and stored.state == TicketState.DRAFT
    assert not any(isinstance(e, events.TicketResponded) for e in emitted)


async def test_set_tier_is_validated(platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    await set_tier(platform, None, ticket, Tier.ENTERPRISE, 100_000, priority=1)
    stored = await Ticket.get(id=ticket.id)
    assert (stored.tier, stored.amount_paid, stored.priority) == (Tier.ENTERPRISE, 100_000, 1)
    with pytest.raises(Invalid):
        await set_tier(platform, None, ticket, Tier.FREE, -5)
    with pytest.raises(Invalid):
        await set_tier(platform, None, ticket, Tier.FREE, 0, priority=9)
    assert (await Ticket.get(id=ticket.id)).amount_paid == 100_000


async def test_migration_backfills_first_responders(platform: Platform, world: World) -> None:
    """Tickets answered before migration 0005 get their first responder from the posts:
    the earliest reply by the team, not the requester's nor an outsider's."""
    import importlib

    from tortoise import connections

    backfill = importlib.import_module("forum.migrations.0005_followups_6_7_8")

    answered = await open_ticket(platform, world)
    topic = await Topic.get(id=answered.topic_id)  # type: ignore[attr-defined]
    await answer(platform, world, topic, world.member, "More detail from me.")  # requester
    await answer(platform, world, topic, world.outsider, "Same here.")
    await answer(platform, world, topic, world.supporter, "Which version exactly?")
    await answer(platform, world, topic, world.maintainer, "Also: which OS?")
    unanswered = await open_ticket(platform, world)
    await Ticket.all().update(first_responder_id=None)
    await connections.get("default").execute_script(backfill.BACKFILL_FIRST_RESPONDER)
    assert (await Ticket.get(id=answered.id)).first_responder_id == world.supporter.id  # type: ignore[attr-defined]
    assert (await Ticket.get(id=unanswered.id)).first_responder_id is None  # type: ignore[attr-defined]
