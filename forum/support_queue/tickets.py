"""Opening tickets: the Support category, reference numbers, drafts and submission.

A ticket is a topic of kind "ticket" in the project's Support category plus its ``Ticket``
row. It starts as a draft when it was imported (email, GitHub) or when a domain refuses
``Act.OPEN_TICKET`` (terms not accepted yet): a draft is seen only by its requester and the
team, sits outside the queue and alerts nobody. Submitting asks the gates again, takes the
chosen visibility and emits ``TicketSubmitted``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from forum import events
from forum.gates import Act, Attempt
from forum.projects.models import Project
from forum.support_queue.models import SupportSettings, Ticket, TicketSource, TicketState
from forum.support_queue.schemas import TicketIn
from forum.topics.access import require_user
from forum.topics.categories import ensure_default_categories
from forum.topics.gating import screen_text
from forum.topics.models import Access, Category, Post, PostRevision, Topic, TopicKind
from forum.topics.permissions import Viewer, can_post_in_category
from forum.topics.writing import CookedPost, cook_post, slugify
from forum.web.errors import Conflict, Forbidden

if TYPE_CHECKING:
    from forum.platform import Platform

log = logging.getLogger(__name__)

SUPPORT_SLUG = "support"
PLUGIN_KEY = "support_queue"  # Topic.plugin_data key


async def ensure_support_category(project: Project) -> Category:
    """The project's Support category (created on first use; signed-in users post)."""
    await ensure_default_categories(project)
    category = await Category.get_or_none(project_id=project.id, slug=SUPPORT_SLUG)
    if category is not None:
        return category
    try:
        position = await Category.filter(project_id=project.id).count()
        return await Category.create(
            project_id=project.id, name="Support", slug=SUPPORT_SLUG,
            description="Ask the project team for help: your ticket joins the support queue.",
            color="#0b7285", position=position, read_access=Access.EVERYONE,
            post_access=Access.EVERYONE, default_kind=TopicKind.TICKET)
    except IntegrityError:  # a concurrent request made it
        return await Category.get(project_id=project.id, slug=SUPPORT_SLUG)


async def support_settings(project_id: int) -> SupportSettings:
    """The project's support settings row (made with the defaults when missing)."""
    found = await SupportSettings.get_or_none(project_id=project_id)
    if found is not None:
        return found
    try:
        return await SupportSettings.create(project_id=project_id)
    except IntegrityError:
        return await SupportSettings.get(project_id=project_id)


async def next_number(project_id: int) -> int:
    """Take the project's next ticket number. Call inside the transaction that creates the
    ticket: the counter row stays locked until it commits, so numbers never repeat."""
    await SupportSettings.filter(project_id=project_id).update(last_number=F("last_number") + 1)
    row = await SupportSettings.filter(project_id=project_id).only("last_number").first()
    assert row is not None
    return row.last_number


async def open_ticket_refusal(platform: Platform, viewer: Viewer, project_id: int,
                              topic_id: int | None = None) -> str | None:
    """Why the user may not open a ticket now (e.g. terms to accept first), or None."""
    user = require_user(viewer)
    return await platform.refusal(Attempt(
        act=Act.OPEN_TICKET, user_id=user.id, project_id=project_id,
        is_staff=viewer.is_team, topic_id=topic_id))


@dataclass(frozen=True)
class TicketDraft:
    """A new ticket that passed every check."""

    category: Category
    title: str
    source: str
    cooked: CookedPost
    is_private: bool  # the visibility it takes when submitted
    submit: bool  # queue it now (False: stays a draft)
    ticket_source: TicketSource
    draft_reason: str | None  # why it stays a draft, for the requester


async def check_create_ticket(platform: Platform, viewer: Viewer, project: Project,
                              data: TicketIn, *, source: TicketSource = TicketSource.WEB,
                              ip: str | None = None) -> TicketDraft:
    """Validate a new ticket: 401 anonymous, 403 may not post in Support, 422 text blocked.
    A gate's refusal does not refuse: the ticket is kept as a draft with the reason."""
    require_user(viewer)
    category = await ensure_support_category(project)
    if not can_post_in_category(viewer, category):
        raise Forbidden("You may not open tickets in this project.")
    screened = await screen_text(platform, viewer, project.id, data.source, title=data.title,
                                 ip=ip)
    if screened.hold_reason is not None:
        # A ticket the screeners would hold is kept as a draft the team can look at.
        draft_reason: str | None = screened.hold_reason
    else:
        draft_reason = await open_ticket_refusal(platform, viewer, project.id)
    cooked = await cook_post(project, viewer, screened.source, None)
    settings = await support_settings(project.id)
    is_private = settings.private_by_default if data.is_private is None else data.is_private
    imported = source != TicketSource.WEB
    submit = data.submit and not imported and draft_reason is None
    return TicketDraft(category, data.title, screened.source, cooked, is_private, submit,
                       source, draft_reason)


async def do_create_ticket(platform: Platform, viewer: Viewer, project: Project,
                           draft: TicketDraft) -> Ticket:
    """Write the topic, its opening post, revision and ticket (numbered); emit
    ``TopicCreated`` and, when submitted, ``TicketSubmitted``."""
    author = require_user(viewer)
    now = datetime.now(UTC)
    await support_settings(project.id)
    state = TicketState.QUEUED if draft.submit else TicketState.DRAFT
    # A draft is seen by its requester and the team only until it is submitted.
    visible_private = draft.is_private if draft.submit else True
    async with in_transaction():
        topic = await Topic.create(
            project_id=project.id, category_id=draft.category.id, author_id=author.id,
            kind=TopicKind.TICKET, title=draft.title, slug=slugify(draft.title),
            is_private=visible_private, last_posted_at=now, last_poster_id=author.id,
            plugin_data={PLUGIN_KEY: {"private": draft.is_private}})
        post = await Post.create(topic_id=topic.id, author_id=author.id, number=1,
                                 source=draft.source, cooked=draft.cooked.html)
        await PostRevision.create(post_id=post.id, number=1, source=draft.source,
                                  title=draft.title, editor_id=author.id)
        await Category.filter(id=draft.category.id).update(topic_count=F("topic_count") + 1)
        ticket = await Ticket.create(
            topic_id=topic.id, project_id=project.id, number=await next_number(project.id),
            requester_id=author.id, state=state, source=draft.ticket_source,
            submitted_at=now if draft.submit else None,
            last_requester_reaction_at=now if draft.submit else None)
    if not draft.submit:
        return ticket  # a draft is announced when it is submitted
    await platform.emit(events.TopicCreated(
        project=project.id, topic_id=topic.id, post_id=post.id, author_id=author.id,
        category_id=draft.category.id, kind=TopicKind.TICKET.value,
        mentioned_user_ids=draft.cooked.mentioned_user_ids,
        quoted_post_ids=draft.cooked.quoted_post_ids))
    if draft.submit:
        await platform.emit(events.TicketSubmitted(
            project=project.id, ticket_id=ticket.id, topic_id=topic.id,
            requester_id=author.id))
    return ticket


async def create_ticket(platform: Platform, viewer: Viewer, project: Project, data: TicketIn,
                        *, source: TicketSource = TicketSource.WEB,
                        ip: str | None = None) -> Ticket:
    draft = await check_create_ticket(platform, viewer, project, data, source=source, ip=ip)
    return await do_create_ticket(platform, viewer, project, draft)


def chosen_privacy(topic: Topic) -> bool:
    """The visibility a draft takes when submitted."""
    data = topic.plugin_data.get(PLUGIN_KEY)
    if isinstance(data, dict) and isinstance(data.get("private"), bool):
        return bool(data["private"])
    return topic.is_private


async def check_submit(platform: Platform, viewer: Viewer, ticket: Ticket, topic: Topic
                       ) -> None:
    """Only the requester submits their own draft, once no gate refuses it (403 with the
    reason, e.g. the terms to accept); 409 when it is not a draft."""
    user = require_user(viewer)
    if user.id != ticket.requester_id:  # type: ignore[attr-defined]
        raise Forbidden("Only the requester submits a draft ticket.")
    if ticket.state != TicketState.DRAFT:
        raise Conflict("This ticket was already submitted.")
    reason = await open_ticket_refusal(platform, viewer, ticket.project_id,  # type: ignore[attr-defined]
                                       topic_id=topic.id)
    if reason:
        raise Forbidden(reason)


async def do_submit(platform: Platform, viewer: Viewer, ticket: Ticket, topic: Topic
                    ) -> Ticket:
    """Queue a draft; emit ``TicketSubmitted``. A concurrent submit loses with a 409."""
    now = datetime.now(UTC)
    async with in_transaction():
        changed = await Ticket.filter(id=ticket.id, state=TicketState.DRAFT).update(
            state=TicketState.QUEUED, submitted_at=now, last_requester_reaction_at=now)
        if not changed:
            raise Conflict("This ticket was already submitted.")
        await Topic.filter(id=topic.id).update(is_private=chosen_privacy(topic))
    await ticket.refresh_from_db()
    project_id: int = ticket.project_id  # type: ignore[attr-defined]
    opening = await Post.get(topic_id=topic.id, number=1)
    # The draft was not announced when written: watchers, search and the team hear of it now.
    await platform.emit(events.TopicCreated(
        project=project_id, topic_id=topic.id, post_id=opening.id,
        author_id=topic.author_id, category_id=topic.category_id,  # type: ignore[attr-defined]
        kind=TopicKind.TICKET.value))
    await platform.emit(events.TicketSubmitted(
        project=project_id, ticket_id=ticket.id, topic_id=topic.id,
        requester_id=ticket.requester_id))  # type: ignore[attr-defined]
    return ticket


async def adopt_ticket_topic(platform: Platform, event: events.TopicCreated) -> Ticket | None:
    """Give a topic of kind "ticket" started through the ordinary composer (which already
    asked the gates) its ticket record, submitted; nothing when it has one."""
    if await Ticket.exists(topic_id=event.topic_id):
        return None
    now = datetime.now(UTC)
    await support_settings(event.project)
    try:
        async with in_transaction():
            ticket = await Ticket.create(
                topic_id=event.topic_id, project_id=event.project,
                number=await next_number(event.project), requester_id=event.author_id,
                state=TicketState.QUEUED, source=TicketSource.WEB, submitted_at=now,
                last_requester_reaction_at=now)
    except IntegrityError:  # adopted concurrently
        return None
    await platform.emit(events.TicketSubmitted(
        project=event.project, ticket_id=ticket.id, topic_id=event.topic_id,
        requester_id=event.author_id))
    return ticket
