"""A ticket as the API returns it, shaped for who is asking: due times are the team's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.accounts.models import User
from forum.support_queue.models import TicketState
from forum.support_queue.permissions import TicketContext
from forum.support_queue.schemas import TicketOut, UserRef
from forum.support_queue.standing import standing
from forum.support_queue.tickets import open_ticket_refusal

if TYPE_CHECKING:
    from forum.platform import Platform


async def user_ref(user_id: int | None) -> UserRef | None:
    if user_id is None:
        return None
    user = await User.get_or_none(id=user_id)
    return UserRef(id=user.id, username=user.username) if user is not None else None


def topic_url(ctx: TicketContext) -> str:
    return f"/p/{ctx.project.slug}/t/{ctx.topic.id}-{ctx.topic.slug}"


async def draft_reason(platform: Platform, ctx: TicketContext) -> str | None:
    """Why the requester cannot submit their draft yet (shown to them), or None."""
    if ctx.ticket.state != TicketState.DRAFT or not ctx.is_requester:
        return None
    return await open_ticket_refusal(platform, ctx.viewer, ctx.project.id,
                                     topic_id=ctx.topic.id)


async def ticket_out(platform: Platform, ctx: TicketContext) -> TicketOut:
    ticket = ctx.ticket
    where = await standing(ticket, platform)
    requester = await user_ref(ticket.requester_id)  # type: ignore[attr-defined]
    assert requester is not None
    team = ctx.is_team
    return TicketOut(
        id=ticket.id, reference=ticket.reference_in(ctx.project.slug), number=ticket.number,
        topic_id=ctx.topic.id, url=topic_url(ctx), project=ctx.project.slug,
        title=ctx.topic.title, state=ticket.state, is_private=ctx.topic.is_private,
        priority=ticket.priority, tier=ticket.tier, amount_paid=ticket.amount_paid,
        currency=ticket.currency, source=ticket.source.value, requester=requester,
        assignee=await user_ref(ticket.assignee_id),  # type: ignore[attr-defined]
        created_at=ticket.created_at, submitted_at=ticket.submitted_at,
        first_response_at=ticket.first_response_at,
        last_team_response_at=ticket.last_team_response_at,
        first_response_due_at=ticket.first_response_due_at if team else None,
        next_response_due_at=ticket.next_response_due_at if team else None,
        solved_at=ticket.solved_at, closed_at=ticket.closed_at,
        queue_position=where.position, expected_response=where.expected_response,
        draft_reason=await draft_reason(platform, ctx))
