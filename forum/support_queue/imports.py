"""Draft tickets from elsewhere (a GitHub issue pulled in with "+support", a bulk import):
the conversation as it was written there, kept as a draft its requester confirms.

Imported text was not written here, so the gates are not asked (as in
``forum.topics.imports``); it is cooked and sanitised like any post, and huge text is cut.
The ticket is a draft (seen by its requester and the team, alerting nobody) until the
requester, usually a staged user who later signs in with the same identity, submits it
through the ordinary draft flow; the posts written meanwhile are announced with it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.expressions import F
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from forum.support_queue.calendar import business_minutes_between
from forum.support_queue.estimate import (
    HISTORY_DAYS,
    HISTORY_LIMIT,
    RATE_DAYS,
    ExpectedResponse,
    estimate,
    project_calendar,
    workday_minutes,
)
from forum.support_queue.models import Ticket, TicketSource, Tier
from forum.support_queue.queue import QUEUED, load_queue_settings
from forum.support_queue.tickets import TicketDraft, do_create_ticket, ensure_support_category
from forum.topics.access import load_viewer
from forum.topics.imports import fit_source, fit_title
from forum.topics.models import Post, PostRevision, Topic
from forum.topics.writing import cook_post

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.platform import Platform
    from forum.projects.models import Project


async def import_draft_ticket(platform: Platform, project: Project, requester: User,
                              title: str, source: str, *, is_private: bool,
                              origin: TicketSource = TicketSource.GITHUB,
                              created_at: datetime | None = None) -> Ticket:
    """A draft ticket by ``requester`` from imported text; ``is_private``: the visibility
    it takes when submitted. No gates, no events until it is submitted."""
    category = await ensure_support_category(project)
    viewer = await load_viewer(requester, project)
    text = fit_source(source)
    cooked = await cook_post(project, viewer, text, None)
    draft = TicketDraft(category=category, title=fit_title(title), source=text, cooked=cooked,
                        is_private=is_private, submit=False, ticket_source=origin,
                        draft_reason=None)
    ticket = await do_create_ticket(platform, viewer, project, draft)
    if created_at is not None:
        topic_id: int = ticket.topic_id  # type: ignore[attr-defined]
        await Topic.filter(id=topic_id).update(created_at=created_at)
        await Post.filter(topic_id=topic_id, number=1).update(created_at=created_at)
    return ticket


async def import_ticket_post(project: Project, topic_id: int, author: User, source: str, *,
                             created_at: datetime | None = None) -> Post:
    """Add an imported post (a comment from where the ticket came from) to a ticket's
    topic, as ``author``, without the gates and without events: a draft announces its
    posts when it is submitted, and an imported comment is not a reaction to the queue."""
    viewer = await load_viewer(author, project)
    text = fit_source(source)
    cooked = await cook_post(project, viewer, text, topic_id)
    when = created_at or datetime.now(UTC)
    async with in_transaction():
        await Topic.filter(id=topic_id).select_for_update().first()
        row = await Post.filter(topic_id=topic_id).annotate(top=Max("number")).first(
            ).values("top")
        number = int(row["top"] or 0) + 1 if row else 1
        post = await Post.create(topic_id=topic_id, author_id=author.id, number=number,
                                 source=text, cooked=cooked.html, created_at=when)
        await PostRevision.create(post_id=post.id, number=1, source=text, editor_id=author.id)
        await Topic.filter(id=topic_id).update(reply_count=F("reply_count") + 1,
                                               last_posted_at=when, last_poster_id=author.id)
    return post


async def expected_response_for_new(project_id: int, *, tier: Tier = Tier.FREE,
                                    now: datetime | None = None) -> ExpectedResponse:
    """What a ticket of ``tier`` submitted now can expect: the project's history for that
    tier, and its place at the end of the queue at the recent answering rate."""
    now = now or datetime.now(UTC)
    settings = await load_queue_settings(project_id)
    cal = await project_calendar(project_id)
    rows = await (Ticket.filter(project_id=project_id, tier=tier, submitted_at__isnull=False,
                                first_response_at__gte=now - timedelta(days=HISTORY_DAYS))
                  .order_by("-first_response_at").limit(HISTORY_LIMIT)
                  .values_list("submitted_at", "first_response_at"))
    history = [business_minutes_between(submitted, answered, cal)
               for submitted, answered in rows if answered >= submitted]
    since = now - timedelta(days=RATE_DAYS)
    answered = await Ticket.filter(project_id=project_id, first_response_at__gte=since,
                                   first_response_at__lte=now).count()
    waiting = await Ticket.filter(project_id=project_id, state__in=QUEUED).count()
    return estimate(history, waiting + 1, answered, business_minutes_between(since, now, cal),
                    settings.minimum_response_minutes, workday_minutes(cal))
