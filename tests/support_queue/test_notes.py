from __future__ import annotations

import pytest

from forum.platform import Platform
from forum.support_queue.models import TicketNote
from forum.support_queue.notes import add_note, list_notes
from forum.support_queue.permissions import access_ticket
from forum.web.errors import Forbidden, Invalid
from tests.support_queue.conftest import World, open_ticket


async def test_notes_are_cooked_and_listed_for_the_team(platform: Platform, world: World
                                                        ) -> None:
    ticket = await open_ticket(platform, world)
    ctx = await access_ticket(world.supporter, ticket.id)
    note = await add_note(ctx, "See <script>alert(1)</script> **here**")
    assert "<strong>here</strong>" in note.cooked and "<script>" not in note.cooked
    assert [n.id for n in await list_notes(ctx)] == [note.id]


async def test_the_requester_and_readers_neither_read_nor_write_notes(
        platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    await add_note(await access_ticket(world.supporter, ticket.id), "internal")
    for user in (world.member, world.outsider):
        ctx = await access_ticket(user, ticket.id)
        with pytest.raises(Forbidden):
            await list_notes(ctx)
        with pytest.raises(Forbidden):
            await add_note(ctx, "let me in")
    assert await TicketNote.all().count() == 1


async def test_hostile_markdown_is_refused(platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    ctx = await access_ticket(world.supporter, ticket.id)
    with pytest.raises(Invalid):
        await add_note(ctx, ">" * 5000 + " deep")
    assert await TicketNote.all().count() == 0
