"""Turning a question into a ticket and back, by the team or the asker.

To a ticket: the topic becomes kind "ticket" and gets its record (numbered, queued, the
asker as requester), or its old record is put back in the queue. Back to a question: the
record is kept, closed, so the reference and history survive another round trip.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import User
from forum.support_queue.models import Ticket, TicketSource, TicketState
from forum.support_queue.states import queue_state, state_changes
from forum.support_queue.tickets import next_number, open_ticket_refusal, support_settings
from forum.topics.access import locate_topic, require_user
from forum.topics.models import Topic, TopicKind, TopicState
from forum.web.errors import Conflict, Forbidden

if TYPE_CHECKING:
    from forum.platform import Platform
    from forum.topics.access import TopicContext


async def check_convert(platform: Platform, user: User | None, topic_id: int, to: str
                        ) -> TopicContext:
    """404 unreadable topic; 403 neither team nor asker (or a gate refuses the asker);
    409 the topic is not a question (to a ticket) or not a ticket (to a question)."""
    ctx = await locate_topic(user, topic_id)
    actor = require_user(ctx.viewer)
    is_asker = actor.id == ctx.topic.author_id  # type: ignore[attr-defined]
    if not (ctx.viewer.is_team or is_asker):
        raise Forbidden("Only the asker or the project team may convert a topic.")
    if ctx.topic.deleted_at is not None:
        raise Conflict("This topic was deleted.")
    wanted = TopicKind.TICKET if to == "ticket" else TopicKind.QUESTION
    source_kind = TopicKind.QUESTION if wanted == TopicKind.TICKET else TopicKind.TICKET
    if ctx.topic.kind != source_kind:
        raise Conflict(f"Only a {source_kind.value} can become a {wanted.value}.")
    if wanted == TopicKind.TICKET and not ctx.viewer.is_team:
        reason = await open_ticket_refusal(platform, ctx.viewer, ctx.project.id,
                                           topic_id=ctx.topic.id)
        if reason:
            raise Forbidden(reason)
    return ctx


async def do_convert(platform: Platform, ctx: TopicContext, to: str) -> Ticket | None:
    """Change the kind, create or reopen (to a ticket) or close (to a question) the ticket
    record; emit ``TopicChanged("kind")`` and, entering the queue, ``TicketSubmitted``."""
    topic = ctx.topic
    now = datetime.now(UTC)
    existing = await Ticket.get_or_none(topic_id=topic.id)
    submitted = False
    await support_settings(ctx.project.id)
    async with in_transaction():
        if to == "ticket":
            await Topic.filter(id=topic.id).update(kind=TopicKind.TICKET, state=TopicState.OPEN)
            if existing is None:
                existing = await Ticket.create(
                    topic_id=topic.id, project_id=ctx.project.id,
                    number=await next_number(ctx.project.id),
                    requester_id=topic.author_id,  # type: ignore[attr-defined]
                    state=TicketState.QUEUED, source=TicketSource.WEB, submitted_at=now,
                    last_requester_reaction_at=now)
                submitted = True
            elif existing.state in (TicketState.SOLVED, TicketState.CLOSED):
                await Ticket.filter(id=existing.id).update(
                    **state_changes(existing, queue_state(existing), now))
        else:
            await Topic.filter(id=topic.id).update(kind=TopicKind.QUESTION,
                                                   state=TopicState.OPEN)
            if existing is not None and existing.state != TicketState.CLOSED:
                await Ticket.filter(id=existing.id).update(
                    **state_changes(existing, TicketState.CLOSED, now))
    await platform.emit(events.TopicChanged(
        project=ctx.project.id, topic_id=topic.id, actor_id=ctx.viewer.user_id, change="kind"))
    if existing is not None:
        await existing.refresh_from_db()
        if submitted:
            await platform.emit(events.TicketSubmitted(
                project=ctx.project.id, ticket_id=existing.id, topic_id=topic.id,
                requester_id=topic.author_id))  # type: ignore[attr-defined]
    return existing if to == "ticket" else None


async def convert(platform: Platform, user: User | None, topic_id: int, to: str
                  ) -> Ticket | None:
    ctx = await check_convert(platform, user, topic_id, to)
    return await do_convert(platform, ctx, to)
