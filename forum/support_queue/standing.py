"""Where a ticket stands, for its requester and the team: its place in the queue and the
expected response, from the queue's ``queue_position`` and ``expected_response``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forum.support_queue.models import Ticket, TicketState, is_queued
from forum.support_queue.queue import expected_response, queue_position

if TYPE_CHECKING:
    from forum.platform import Platform


@dataclass(frozen=True)
class Standing:
    position: int | None
    expected_response: str | None  # e.g. "3-5 workdays"


async def standing(ticket: Ticket, platform: Platform | None = None) -> Standing:
    """The ticket's place in the queue and expected response; both None for tickets
    outside the queue (drafts, solved, closed, waiting, on hold)."""
    if not is_queued(ticket.state):
        return Standing(None, None)
    position = await queue_position(ticket, platform=platform)
    estimate = await expected_response(ticket, platform=platform)
    return Standing(position, estimate.label if estimate is not None else None)


def state_label(state: TicketState) -> str:
    return {
        TicketState.DRAFT: "Draft",
        TicketState.QUEUED: "In the queue",
        TicketState.ASSIGNED: "Assigned",
        TicketState.WAITING: "Waiting on the requester",
        TicketState.ON_HOLD: "On hold",
        TicketState.SOLVED: "Solved",
        TicketState.CLOSED: "Closed",
    }[state]
