"""The team's PATCH of a ticket: priority, tier, amount paid, currency, assignee and
visibility, all checked before anything is written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.support_queue.models import Ticket
from forum.support_queue.permissions import TicketContext, require_team
from forum.support_queue.schemas import TicketPatch
from forum.support_queue.states import (
    check_assignee,
    check_worth,
    do_assign,
    do_set_visibility,
    set_tier,
)

if TYPE_CHECKING:
    from forum.platform import Platform


async def update_ticket(platform: Platform, ctx: TicketContext, patch: TicketPatch) -> Ticket:
    """403 for anyone but the team; 422 for an assignee off the team or values out of
    range, with nothing written."""
    require_team(ctx, "change a ticket's priority, tier or assignee")
    ticket = ctx.ticket
    worth = check_worth(ticket, patch.tier, patch.amount_paid, patch.priority, patch.currency)
    reassign = "assignee" in patch.model_fields_set
    assignee = await check_assignee(ctx, patch.assignee) if reassign else None
    if (worth.tier, worth.amount_paid, worth.priority, worth.currency) != (
            ticket.tier, ticket.amount_paid, ticket.priority, ticket.currency):
        await set_tier(platform, ctx.viewer.user, ticket, worth.tier, worth.amount_paid,
                       worth.priority, worth.currency)
    if reassign:
        await do_assign(platform, ctx, assignee)
    if patch.is_private is not None:
        await do_set_visibility(platform, ctx, patch.is_private)
    return ticket
