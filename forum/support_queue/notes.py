"""Internal notes: what the team writes about a ticket for each other. Never shown to the
requester or other readers, never indexed for search, never announced by events."""

from __future__ import annotations

from forum.support_queue.models import TicketNote
from forum.support_queue.permissions import TicketContext, require_team
from forum.text import CookContext, cook
from forum.web.errors import Invalid


def check_note(ctx: TicketContext, source: str) -> str:
    """The note's cooked HTML: 403 for anyone but the team, 422 for markdown refused."""
    require_team(ctx, "read or write internal notes")
    try:
        return cook(source, CookContext(ctx.project.slug)).html
    except ValueError as exc:
        message = str(exc) or "This text cannot be formatted."
        raise Invalid(message, fields={"source": message}) from None


async def do_add_note(ctx: TicketContext, source: str, cooked: str) -> TicketNote:
    author_id = ctx.viewer.user_id
    assert author_id is not None
    return await TicketNote.create(ticket_id=ctx.ticket.id, author_id=author_id,
                                   source=source, cooked=cooked)


async def add_note(ctx: TicketContext, source: str) -> TicketNote:
    return await do_add_note(ctx, source, check_note(ctx, source))


async def list_notes(ctx: TicketContext) -> list[TicketNote]:
    require_team(ctx, "read or write internal notes")
    return await TicketNote.filter(ticket_id=ctx.ticket.id).order_by("id").select_related(
        "author")
