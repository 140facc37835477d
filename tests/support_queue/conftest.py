"""Fixtures for the support queue tests: the topics tests' world (a project with a user in
every role), the gatekeeper, the event recorder, and a one-line way to open a ticket."""

from __future__ import annotations

import itertools

from forum.accounts.models import User
from forum.platform import Platform
from forum.support_queue.models import Ticket, TicketSource
from forum.support_queue.schemas import TicketIn
from forum.support_queue.tickets import create_ticket
from tests.topics.conftest import World, emitted, gatekeeper, make_world, world

_seq = itertools.count(1)

__all__ = ["World", "emitted", "gatekeeper", "make_world", "open_ticket", "world"]


async def open_ticket(platform: Platform, world: World, requester: User | None = None, *,
                      source: TicketSource = TicketSource.WEB, **fields: object) -> Ticket:
    """A ticket opened by ``requester`` (the world's member by default), submitted unless
    ``submit=False`` or imported."""
    data: dict[str, object] = {"title": "The parser crashes on empty input",
                               "source": f"Version 2.{next(_seq)} on Linux; traceback attached."}
    data.update(fields)
    viewer = await world.viewer(requester or world.member)
    return await create_ticket(platform, viewer, world.project, TicketIn.model_validate(data),
                               source=source)
