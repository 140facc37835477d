"""What the support queue tells billing and takes from it, without either importing the
other: the facts about a ticket (``forum_ticket_facts``) and what a ticket is worth after a
payment or refund (``TicketWorthChanged``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import TicketFacts, hookimpl

if TYPE_CHECKING:
    from forum import events
    from forum.platform import Platform


@hookimpl
async def forum_ticket_facts(project_id: int, number: int | None, ticket_id: int | None,
                             platform: Platform) -> TicketFacts | None:
    from forum.support_queue.models import Ticket
    from forum.support_queue.queue import queue_position

    query = Ticket.filter(project_id=project_id)
    if ticket_id is not None:
        query = query.filter(id=ticket_id)
    elif number is not None:
        query = query.filter(number=number)
    else:
        return None
    ticket = await query.select_related("project", "topic").first()
    if ticket is None:
        return None
    topic = ticket.topic
    return TicketFacts(
        ticket_id=ticket.id, topic_id=topic.id, project_id=project_id, number=ticket.number,
        reference=ticket.reference, title=topic.title,
        requester_id=ticket.requester_id,  # type: ignore[attr-defined]
        state=str(ticket.state), tier=str(ticket.tier), priority=ticket.priority,
        amount_paid=ticket.amount_paid, currency=ticket.currency,
        is_private=topic.is_private,
        queue_position=await queue_position(ticket, platform=platform),
        url=f"/p/{ticket.project.slug}/t/{topic.id}-{topic.slug}")


@hookimpl
async def on_ticket_worth_changed(event: events.TicketWorthChanged,
                                  platform: Platform) -> None:
    """Set exactly what billing says (absolute values: replays change nothing)."""
    from forum.support_queue.models import Ticket, Tier
    from forum.support_queue.sla_models import TicketTargets
    from forum.support_queue.states import set_tier

    ticket = await Ticket.get_or_none(id=event.ticket_id, project_id=event.project)
    if ticket is None:
        return
    if event.first_response_minutes is None and event.next_response_minutes is None:
        await TicketTargets.filter(ticket_id=ticket.id).delete()
    else:
        await TicketTargets.update_or_create(
            {"first_response_minutes": event.first_response_minutes,
             "next_response_minutes": event.next_response_minutes}, ticket_id=ticket.id)
    await set_tier(platform, None, ticket, Tier(event.tier), event.amount_paid,
                   priority=event.priority, currency=event.currency)
