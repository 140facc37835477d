"""Moving a ticket through its states, assigning it, and the team's fields.

The team may set any state; the requester may solve or close their ticket and reopen it
within ``REOPEN_GRACE``. Waiting on the requester and on hold pause the response clock
(``paused_at``); leaving them adds the pause to ``paused_seconds``. Solving emits
``TicketResolved`` naming everyone but the requester who posted in the ticket.
``set_tier`` is the one verb that changes what a ticket is worth (billing calls it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import User
from forum.projects.permissions import role_in
from forum.support_queue.models import PAUSED_STATES, Ticket, TicketState, Tier
from forum.support_queue.permissions import (
    REQUESTER_STATES,
    TicketContext,
    require_team,
    require_team_or_requester,
    within_reopen_grace,
)
from forum.support_queue.sla import refresh_ticket
from forum.support_queue.tickets import PLUGIN_KEY
from forum.topics.models import Post, Topic, TopicState
from forum.topics.permissions import TEAM_ROLES
from forum.web.errors import Conflict, Forbidden, Invalid

if TYPE_CHECKING:
    from forum.platform import Platform

REOPEN = "reopen"
TOPIC_STATES = {TicketState.SOLVED: TopicState.SOLVED, TicketState.CLOSED: TopicState.CLOSED}


def queue_state(ticket: Ticket) -> TicketState:
    """Where a ticket goes when it re-enters the queue: assigned if it has an assignee."""
    return TicketState.ASSIGNED if ticket.assignee_id is not None else TicketState.QUEUED  # type: ignore[attr-defined]


def state_changes(ticket: Ticket, new: TicketState, now: datetime) -> dict[str, Any]:
    """The columns that change when ``ticket`` moves to ``new`` (pause bookkeeping,
    solved and closed times)."""
    changes: dict[str, Any] = {"state": new}
    was_paused = ticket.state in PAUSED_STATES and ticket.paused_at is not None
    if new in PAUSED_STATES and not was_paused:
        changes["paused_at"] = now
    elif new not in PAUSED_STATES and was_paused:
        assert ticket.paused_at is not None
        paused = max(0, int((now - ticket.paused_at).total_seconds()))
        changes["paused_at"] = None
        changes["paused_seconds"] = ticket.paused_seconds + paused
    if new == TicketState.SOLVED:
        changes["solved_at"] = now
    elif new == TicketState.CLOSED:
        changes["closed_at"] = now
        if ticket.solved_at is None:
            changes["solved_at"] = None
    elif ticket.state in REQUESTER_STATES:  # reopened
        changes["solved_at"] = None
        changes["closed_at"] = None
    return changes


def check_set_state(ctx: TicketContext, wanted: str, now: datetime | None = None
                    ) -> TicketState:
    """The state ``wanted`` ("reopen" included) resolves to, if this viewer may set it:
    403 for a reader, or a requester asking for more than solve, close or reopen in time;
    409 for drafts and reopening an open ticket."""
    require_team_or_requester(ctx, "change a ticket's state")
    ticket = ctx.ticket
    if ticket.state == TicketState.DRAFT:
        raise Conflict("Submit the draft first.")
    if wanted == REOPEN:
        if ticket.state not in REQUESTER_STATES:
            raise Conflict("Only a solved or closed ticket can be reopened.")
        if not ctx.is_team and not within_reopen_grace(ticket, now):
            raise Forbidden("This ticket was closed too long ago to reopen; open a new one.")
        return queue_state(ticket)
    try:
        new = TicketState(wanted)
    except ValueError:
        raise Invalid("No such state.", fields={"state": "unknown state"}) from None
    if new in (TicketState.DRAFT, TicketState.ASSIGNED):
        raise Invalid("A ticket is assigned by assigning it.", fields={"state": "not settable"})
    if not ctx.is_team and new not in REQUESTER_STATES:
        raise Forbidden("The requester may solve, close or reopen their ticket; the team "
                        "does the rest.")
    if new == TicketState.QUEUED:
        return queue_state(ticket)
    return new


async def answer_author_ids(ticket: Ticket) -> tuple[int, ...]:
    """Distinct authors other than the requester of the ticket's visible posts."""
    rows = await Post.filter(topic_id=ticket.topic_id, deleted_at=None,  # type: ignore[attr-defined]
                             hidden_at=None).values_list("author_id", flat=True)
    requester = ticket.requester_id  # type: ignore[attr-defined]
    return tuple(sorted({int(r) for r in rows if r != requester}))  # type: ignore[call-overload]


async def do_set_state(platform: Platform, ctx: TicketContext, new: TicketState,
                       now: datetime | None = None) -> Ticket:
    """Write the new state (and the topic's: solved, closed or open); emit
    ``TicketStateChanged`` and, when solved, ``TicketResolved``."""
    ticket = ctx.ticket
    old = ticket.state
    if new == old:
        return ticket
    now = now or datetime.now(UTC)
    changes = state_changes(ticket, new, now)
    topic_state = TOPIC_STATES.get(new, TopicState.OPEN)
    async with in_transaction():
        updated = await Ticket.filter(id=ticket.id, state=old).update(**changes)
        if not updated:
            raise Conflict("The ticket changed meanwhile; reload and try again.")
        await Topic.filter(id=ctx.topic.id).update(state=topic_state)
    await ticket.refresh_from_db()
    project_id = ctx.project.id
    await platform.emit(events.TicketStateChanged(
        project=project_id, ticket_id=ticket.id, actor_id=ctx.viewer.user_id,
        old=old.value, new=new.value))
    if ctx.topic.state != topic_state:
        await platform.emit(events.TopicChanged(
            project=project_id, topic_id=ctx.topic.id, actor_id=ctx.viewer.user_id,
            change="state"))
    if new == TicketState.SOLVED:
        await platform.emit(events.TicketResolved(
            project=project_id, ticket_id=ticket.id,
            requester_id=ticket.requester_id,  # type: ignore[attr-defined]
            tier=ticket.tier.value, amount_paid=ticket.amount_paid, currency=ticket.currency,
            answer_author_ids=await answer_author_ids(ticket)))
    return ticket


async def set_state(platform: Platform, ctx: TicketContext, wanted: str) -> Ticket:
    return await do_set_state(platform, ctx, check_set_state(ctx, wanted))


# Assignment


async def check_assignee(ctx: TicketContext, username: str | None) -> User | None:
    """The team member named ``username`` (None: unassign). 403 for non-team actors,
    422 for someone not on this project's team."""
    require_team(ctx, "assign tickets")
    if ctx.ticket.state == TicketState.DRAFT:
        raise Conflict("Submit the draft first.")
    if username is None or not username.strip():
        return None
    user = await User.get_or_none(username_lower=username.strip().lower(), is_active=True)
    if user is None:
        raise Invalid("No such user.", fields={"assignee": "unknown user"})
    role = await role_in(ctx.project.id, user)
    if not (user.is_platform_admin or (role is not None and role in TEAM_ROLES)):
        raise Invalid(f"{user.username} is not on the project team.",
                      fields={"assignee": "not on the team"})
    return user


async def do_assign(platform: Platform, ctx: TicketContext, assignee: User | None) -> Ticket:
    """Assign, transfer or unassign; a queued ticket becomes assigned and back. Emits
    ``TicketAssigned``."""
    ticket = ctx.ticket
    new_id = assignee.id if assignee is not None else None
    if ticket.assignee_id == new_id:  # type: ignore[attr-defined]
        return ticket
    changes: dict[str, Any] = {"assignee_id": new_id}
    if new_id is not None and ticket.state == TicketState.QUEUED:
        changes["state"] = TicketState.ASSIGNED
    elif new_id is None and ticket.state == TicketState.ASSIGNED:
        changes["state"] = TicketState.QUEUED
    old_state = ticket.state
    await Ticket.filter(id=ticket.id).update(**changes)
    await ticket.refresh_from_db()
    actor = ctx.viewer.user_id
    assert actor is not None
    await platform.emit(events.TicketAssigned(
        project=ctx.project.id, ticket_id=ticket.id, assignee_id=new_id, actor_id=actor))
    if ticket.state != old_state:
        await platform.emit(events.TicketStateChanged(
            project=ctx.project.id, ticket_id=ticket.id, actor_id=actor,
            old=old_state.value, new=ticket.state.value))
    return ticket


async def assign(platform: Platform, ctx: TicketContext, username: str | None) -> Ticket:
    return await do_assign(platform, ctx, await check_assignee(ctx, username))


# What a ticket is worth


@dataclass(frozen=True)
class Worth:
    tier: Tier
    amount_paid: int
    priority: int
    currency: str


def check_worth(ticket: Ticket, tier: Tier | None = None, amount_paid: int | None = None,
                priority: int | None = None, currency: str | None = None) -> Worth:
    """The ticket's tier, payment, priority and currency after a change (422 out of range)."""
    worth = Worth(tier if tier is not None else ticket.tier,
                  amount_paid if amount_paid is not None else ticket.amount_paid,
                  priority if priority is not None else ticket.priority,
                  currency if currency is not None else ticket.currency)
    if not 1 <= worth.priority <= 5:
        raise Invalid("Priority runs from 1 to 5.", fields={"priority": "1 to 5"})
    if worth.amount_paid < 0:
        raise Invalid("An amount paid cannot be negative.", fields={"amount_paid": ">= 0"})
    if len(worth.currency) != 3 or not worth.currency.isalpha() or not worth.currency.isupper():
        raise Invalid("A currency is three capital letters.", fields={"currency": "e.g. USD"})
    return worth


async def set_tier(platform: Platform, actor: User | None, ticket: Ticket, tier: Tier,
                   amount_paid: int, priority: int | None = None,
                   currency: str | None = None) -> Ticket:
    """Set what a ticket is worth: by the team by hand (a contract signed elsewhere) or by
    billing (``actor`` None when a payment arrived). The caller checked the actor's right."""
    worth = check_worth(ticket, tier, amount_paid, priority, currency)
    await Ticket.filter(id=ticket.id).update(
        tier=worth.tier, amount_paid=worth.amount_paid, priority=worth.priority,
        currency=worth.currency)
    await refresh_ticket(ticket.id)  # the targets follow tier and priority
    await ticket.refresh_from_db()
    return ticket


# Visibility


def check_visibility(ctx: TicketContext) -> None:
    require_team_or_requester(ctx, "change who sees a ticket")


async def do_set_visibility(platform: Platform, ctx: TicketContext, is_private: bool) -> None:
    """Make a ticket private (team and requester only) or public. A draft keeps it as the
    visibility it takes on submission."""
    topic = ctx.topic
    data = dict(topic.plugin_data)
    data[PLUGIN_KEY] = {"private": is_private}
    changes: dict[str, Any] = {"plugin_data": data}
    if ctx.ticket.state != TicketState.DRAFT:
        changes["is_private"] = is_private
    await Topic.filter(id=topic.id).update(**changes)
    if ctx.ticket.state != TicketState.DRAFT and topic.is_private != is_private:
        await platform.emit(events.TopicChanged(
            project=ctx.project.id, topic_id=topic.id, actor_id=ctx.viewer.user_id,
            change="privacy"))
