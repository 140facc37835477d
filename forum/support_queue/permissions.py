"""Who may do what with a ticket, and loading one for a viewer (``access_ticket``).

The team of a project (``Viewer.is_team``, supporters included) may do everything. The
requester may read their ticket, submit their draft, change its visibility, solve or close
it, and reopen it within ``REOPEN_GRACE`` of it being solved or closed. Anyone else reads a
public, submitted ticket and nothing more; a ticket they may not read is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from forum.accounts.models import User
from forum.projects.models import Project
from forum.support_queue.models import Ticket, TicketState
from forum.topics.access import locate_topic
from forum.topics.models import Category, Topic
from forum.topics.permissions import Viewer
from forum.web.errors import Forbidden, NotFound

MAX_ID = 2**31 - 1
REOPEN_GRACE = timedelta(days=14)
REQUESTER_STATES = frozenset({TicketState.SOLVED, TicketState.CLOSED})


@dataclass(frozen=True)
class TicketContext:
    project: Project
    viewer: Viewer
    ticket: Ticket
    topic: Topic
    category: Category

    @property
    def is_requester(self) -> bool:
        return (self.viewer.user_id is not None
                and self.viewer.user_id == self.ticket.requester_id)  # type: ignore[attr-defined]

    @property
    def is_team(self) -> bool:
        return self.viewer.is_team


async def access_ticket(user: User | None, ticket_id: int) -> TicketContext:
    """The ticket and its topic if ``user`` may read it; NotFound otherwise (a private
    ticket of someone else looks exactly like a missing one)."""
    ticket = await Ticket.get_or_none(id=ticket_id) if 0 < ticket_id <= MAX_ID else None
    if ticket is None:
        raise NotFound("No such ticket.")
    try:
        found = await locate_topic(user, ticket.topic_id)  # type: ignore[attr-defined]
    except NotFound:
        raise NotFound("No such ticket.") from None
    ticket.project = found.project
    return TicketContext(found.project, found.viewer, ticket, found.topic, found.category)


async def access_ticket_of_topic(user: User | None, topic_id: int) -> TicketContext:
    ticket = await Ticket.get_or_none(topic_id=topic_id) if 0 < topic_id <= MAX_ID else None
    if ticket is None:
        raise NotFound("No such ticket.")
    return await access_ticket(user, ticket.id)


def require_team(ctx: TicketContext, what: str = "do that") -> None:
    if not ctx.is_team:
        raise Forbidden(f"Only the project team may {what}.")


def require_team_or_requester(ctx: TicketContext, what: str = "do that") -> None:
    if not (ctx.is_team or ctx.is_requester):
        raise Forbidden(f"Only the requester or the project team may {what}.")


def within_reopen_grace(ticket: Ticket, now: datetime | None = None) -> bool:
    ended = ticket.closed_at or ticket.solved_at
    if ended is None:
        return True
    return (now or datetime.now(UTC)) - ended <= REOPEN_GRACE
