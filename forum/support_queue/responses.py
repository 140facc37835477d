"""Keeping a ticket's response times as people post in it (from ``PostCreated``).

A team member's post is a response: it sets the first and last team response times (and
who gave the first) and emits ``TicketResponded(by_team=True)``; a queued ticket with an
assignee becomes assigned.
Waiting on the requester is set by the team, never inferred. The requester's post is their
reaction: it moves the "waited since" time the queue orders by and takes a ticket waiting
on them back into the queue. Posts by other readers are announced but change no clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from forum import events
from forum.accounts.models import User
from forum.projects.permissions import role_in
from forum.support_queue.models import Ticket, TicketState
from forum.support_queue.states import queue_state, state_changes
from forum.topics.permissions import TEAM_ROLES

if TYPE_CHECKING:
    from forum.platform import Platform


async def is_team_member(project_id: int, user_id: int) -> bool:
    user = await User.get_or_none(id=user_id)
    if user is None:
        return False
    role = await role_in(project_id, user)
    return user.is_platform_admin or (role is not None and role in TEAM_ROLES)


async def record_post(platform: Platform, event: events.PostCreated,
                      now: datetime | None = None) -> None:
    ticket = await Ticket.get_or_none(topic_id=event.topic_id)
    if ticket is None or ticket.state == TicketState.DRAFT:
        return
    now = now or datetime.now(UTC)
    is_requester = event.author_id == ticket.requester_id  # type: ignore[attr-defined]
    by_team = not is_requester and await is_team_member(event.project, event.author_id)
    old = ticket.state
    changes: dict[str, Any] = {}
    first = False
    if by_team:
        first = ticket.first_response_at is None
        if first:
            changes["first_response_at"] = now
            changes["first_responder_id"] = event.author_id
        changes["last_team_response_at"] = now
        if old == TicketState.QUEUED and ticket.assignee_id is not None:  # type: ignore[attr-defined]
            changes["state"] = TicketState.ASSIGNED
    elif is_requester:
        changes["last_requester_reaction_at"] = now
        if old == TicketState.WAITING:
            changes.update(state_changes(ticket, queue_state(ticket), now))
    if changes:
        await Ticket.filter(id=ticket.id).update(**changes)
    await platform.emit(events.TicketResponded(
        project=event.project, ticket_id=ticket.id, post_id=event.post_id, by_team=by_team,
        first=first))
    new = changes.get("state", old)
    if new != old:
        await platform.emit(events.TicketStateChanged(
            project=event.project, ticket_id=ticket.id, actor_id=event.author_id,
            old=old.value, new=TicketState(new).value))
