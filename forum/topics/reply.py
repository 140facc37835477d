"""Replying to a topic, optionally to one of its posts; quotes are recorded in the event.

The gates are asked (``Act.REPLY``) and the text screened; a held reply is stored hidden,
does not count as a reply or as the topic's last activity, and is announced by
``PostHidden`` instead of ``PostCreated`` until approved (see forum/topics/hide.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.expressions import F
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from forum import events
from forum.gates import Act
from forum.projects.models import Project
from forum.topics.access import require_user
from forum.topics.gating import require_allowed, screen_text
from forum.topics.models import Category, Post, PostRevision, Topic
from forum.topics.permissions import Viewer, can_read_topic, can_reply, reply_refusal
from forum.topics.schemas import ReplyIn
from forum.topics.writing import CookedPost, cook_post
from forum.web.errors import Forbidden, Invalid, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform


@dataclass(frozen=True)
class ReplyDraft:
    """A reply that passed every check: its text (possibly rewritten by a screener), cooked,
    and why it must wait for review, if it must."""

    source: str
    cooked: CookedPost
    hold_reason: str | None = None


async def check_reply(platform: Platform, viewer: Viewer, topic: Topic,
                      data: ReplyIn, *, ip: str | None = None) -> ReplyDraft:
    """401 anonymous; 404 unreadable topic; 409 locked, closed, archived or deleted topic;
    403 members-only category or refused by a gate; 422 ``reply_to`` not a visible post of
    this topic, or the text blocked by a screener."""
    require_user(viewer)
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    if not can_read_topic(viewer, topic, category):
        raise NotFound("No such topic.")
    refusal = reply_refusal(viewer, topic)
    if refusal is not None:
        raise UserError(409, f"{refusal} It takes no new replies.", code="topic_closed")
    if not can_reply(viewer, topic, category):
        raise Forbidden(f'Only project members may reply in "{category.name}".')
    if data.reply_to is not None and not await Post.exists(
            id=data.reply_to, topic_id=topic.id, deleted_at=None, hidden_at=None):
        raise Invalid("You can only reply to a post of this topic.",
                      fields={"reply_to": "not a post of this topic"})
    project_id: int = topic.project_id  # type: ignore[attr-defined]
    await require_allowed(platform, viewer, project_id, Act.REPLY, topic_id=topic.id,
                          target_user_id=topic.author_id)  # type: ignore[attr-defined]
    screened = await screen_text(platform, viewer, project_id, data.source,
                                 topic_id=topic.id, ip=ip)
    project = await Project.get(id=project_id)
    cooked = await cook_post(project, viewer, screened.source, topic.id)
    return ReplyDraft(screened.source, cooked, screened.hold_reason)


async def do_reply(platform: Platform, viewer: Viewer, topic: Topic, data: ReplyIn,
                   draft: ReplyDraft) -> Post:
    """Write the post (next number), bump the topic's activity, emit ``PostCreated``; a held
    reply is stored hidden and emits ``PostHidden`` instead."""
    author = require_user(viewer)
    now = datetime.now(UTC)
    cooked = draft.cooked
    held = draft.hold_reason is not None
    async with in_transaction():
        # Lock the topic row so concurrent replies take distinct numbers (PostgreSQL).
        await Topic.filter(id=topic.id).select_for_update().first()
        row = await Post.filter(topic_id=topic.id).annotate(top=Max("number")).first(
            ).values("top")
        number = int(row["top"] or 0) + 1 if row else 1
        post = await Post.create(topic_id=topic.id, author_id=author.id, number=number,
                                 reply_to_id=data.reply_to, source=draft.source,
                                 cooked=cooked.html, hidden_at=now if held else None,
                                 hidden_reason=draft.hold_reason or "", held=held)
        await PostRevision.create(post_id=post.id, number=1, source=draft.source,
                                  editor_id=author.id)
        if not held:
            await Topic.filter(id=topic.id).update(
                reply_count=F("reply_count") + 1, last_posted_at=now,
                last_poster_id=author.id)
    await topic.refresh_from_db()
    if draft.hold_reason is not None:
        await platform.emit(events.PostHidden(
            project=topic.project_id, topic_id=topic.id, post_id=post.id,  # type: ignore[attr-defined]
            author_id=author.id, reason=draft.hold_reason, actor_id=None))
        return post
    await platform.emit(events.PostCreated(
        project=topic.project_id, topic_id=topic.id, post_id=post.id,  # type: ignore[attr-defined]
        author_id=author.id, number=number, reply_to_post_id=data.reply_to,
        mentioned_user_ids=cooked.mentioned_user_ids, quoted_post_ids=cooked.quoted_post_ids))
    return post


async def reply(platform: Platform, viewer: Viewer, topic: Topic, data: ReplyIn, *,
                ip: str | None = None) -> Post:
    """Check, then post the reply (``ip``: the client's address, for the screeners)."""
    draft = await check_reply(platform, viewer, topic, data, ip=ip)
    return await do_reply(platform, viewer, topic, data, draft)
