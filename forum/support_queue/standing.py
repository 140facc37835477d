"""Where a ticket stands, for its requester and the team: its place in the queue and the
expected response, from the queue module's ``queue_position`` and ``expected_response``
(either may be missing while the queue is being built: then nothing is shown)."""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from forum.support_queue.models import Ticket, TicketState, is_queued

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)
QUEUE_MODULE = "forum.support_queue.queue"


@dataclass(frozen=True)
class Standing:
    position: int | None
    expected_response: str | None


def _queue_function(name: str) -> Any:
    try:
        module = import_module(QUEUE_MODULE)
    except ImportError:
        return None
    return getattr(module, name, None)


def _describe(estimate: object) -> str | None:
    """An estimate as the requester reads it (e.g. "7-10 workdays")."""
    if estimate is None:
        return None
    if isinstance(estimate, str):
        return estimate or None
    label = getattr(estimate, "label", None)
    return str(label) if label else str(estimate)


async def _call(func: Any, ticket: Ticket, platform: Platform | None) -> object:
    accepts_platform = "platform" in inspect.signature(func).parameters
    result = func(ticket, platform=platform) if accepts_platform else func(ticket)
    return await result if inspect.isawaitable(result) else result


async def standing(ticket: Ticket, platform: Platform | None = None) -> Standing:
    """The ticket's place in the queue and expected response; both None for tickets
    outside the queue (drafts, solved, closed, waiting, on hold)."""
    if not is_queued(ticket.state):
        return Standing(None, None)
    position: int | None = None
    expected: str | None = None
    find_position = _queue_function("queue_position")
    if find_position is not None:
        found = await _call(find_position, ticket, platform)
        position = int(found) if isinstance(found, int) else None
    estimate = _queue_function("expected_response")
    if estimate is not None:
        expected = _describe(await _call(estimate, ticket, platform))
    return Standing(position, expected)


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
