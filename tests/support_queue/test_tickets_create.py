from __future__ import annotations

import asyncio

import pytest

from forum import events
from forum.gates import Act
from forum.platform import Platform
from forum.support_queue.models import (
    SupportSettings,
    Ticket,
    TicketSource,
    TicketState,
    Tier,
    is_queued,
)
from forum.support_queue.schemas import TicketIn
from forum.support_queue.tickets import check_submit, create_ticket, do_submit
from forum.topics.models import Category, Post, Topic, TopicKind
from forum.web.errors import Conflict, Forbidden, Unauthenticated
from tests.support_queue.conftest import World, open_ticket
from tests.topics.gatekeeper import Gatekeeper


async def test_a_submitted_ticket_is_a_numbered_ticket_topic_in_support(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    ticket = await open_ticket(platform, world)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    assert topic.kind == TopicKind.TICKET
    assert category.slug == "support" and category.default_kind == TopicKind.TICKET
    assert await Post.filter(topic_id=topic.id).count() == 1
    assert ticket.number == 1
    await ticket.fetch_related("project")
    assert ticket.reference == f"{world.project.slug.upper()}-1"
    assert ticket.state == TicketState.QUEUED and is_queued(ticket.state)
    assert ticket.tier == Tier.FREE and ticket.priority == 3 and ticket.currency == "USD"
    assert ticket.submitted_at is not None
    assert ticket.last_requester_reaction_at == ticket.submitted_at
    assert not topic.is_private
    submitted = [e for e in emitted if isinstance(e, events.TicketSubmitted)]
    assert submitted == [events.TicketSubmitted(
        project=world.project.id, ticket_id=ticket.id, topic_id=topic.id,
        requester_id=world.member.id)]
    assert any(isinstance(e, events.TopicCreated) and e.kind == "ticket" for e in emitted)


async def test_numbers_count_per_project(platform: Platform, world: World) -> None:
    from tests.support_queue.conftest import make_world

    other = await make_world()
    first = await open_ticket(platform, world)
    second = await open_ticket(platform, world, world.outsider)
    elsewhere = await open_ticket(platform, other)
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)


async def test_concurrent_tickets_get_distinct_numbers(platform: Platform, world: World
                                                       ) -> None:
    tickets = await asyncio.gather(*(open_ticket(platform, world) for _ in range(5)))
    assert sorted(t.number for t in tickets) == [1, 2, 3, 4, 5]
    settings = await SupportSettings.get(project_id=world.project.id)
    assert settings.last_number == 5


async def test_project_default_visibility_and_the_requesters_choice(
        platform: Platform, world: World) -> None:
    await SupportSettings.create(project_id=world.project.id, private_by_default=True)
    private = await open_ticket(platform, world)
    public = await open_ticket(platform, world, is_private=False)
    assert (await Topic.get(id=private.topic_id)).is_private  # type: ignore[attr-defined]
    assert not (await Topic.get(id=public.topic_id)).is_private  # type: ignore[attr-defined]


async def test_a_refused_open_ticket_keeps_a_private_draft_that_alerts_nobody(
        platform: Platform, world: World, gatekeeper: Gatekeeper,
        emitted: list[events.Event]) -> None:
    gatekeeper.refuse[Act.OPEN_TICKET] = "Accept the terms first: http://testserver/terms"
    ticket = await open_ticket(platform, world)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    assert ticket.state == TicketState.DRAFT and not is_queued(ticket.state)
    assert ticket.submitted_at is None and ticket.last_requester_reaction_at is None
    assert topic.is_private  # until submitted
    assert not any(isinstance(e, events.TicketSubmitted) for e in emitted)
    viewer = await world.viewer(world.member)
    with pytest.raises(Forbidden, match="Accept the terms"):
        await check_submit(platform, viewer, ticket, topic)
    assert (await Ticket.get(id=ticket.id)).state == TicketState.DRAFT

    gatekeeper.refuse.clear()
    await check_submit(platform, viewer, ticket, topic)
    submitted = await do_submit(platform, viewer, ticket, topic)
    assert submitted.state == TicketState.QUEUED and submitted.submitted_at is not None
    assert submitted.last_requester_reaction_at == submitted.submitted_at
    assert not (await Topic.get(id=topic.id)).is_private  # the public default applies
    assert [e.ticket_id for e in emitted if isinstance(e, events.TicketSubmitted)] == [
        ticket.id]
    with pytest.raises(Conflict):
        await check_submit(platform, viewer, submitted, topic)


async def test_imported_tickets_start_as_drafts(platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world, source=TicketSource.EMAIL)
    assert ticket.state == TicketState.DRAFT and ticket.source == TicketSource.EMAIL


async def test_a_draft_on_request_and_only_its_requester_submits(
        platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world, submit=False)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    assert ticket.state == TicketState.DRAFT
    for other in (world.outsider, world.supporter):
        with pytest.raises(Forbidden):
            await check_submit(platform, await world.viewer(other), ticket, topic)


async def test_anonymous_may_not_open_a_ticket(platform: Platform, world: World) -> None:
    viewer = await world.viewer(None)
    data = TicketIn(title="Please help me", source="It broke.")
    with pytest.raises(Unauthenticated):
        await create_ticket(platform, viewer, world.project, data)
    assert await Ticket.all().count() == 0 and await Topic.all().count() == 0
