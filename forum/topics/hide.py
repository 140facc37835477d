"""Hiding a post pending review, and approving it (unhiding).

A hidden post (``Post.hidden_at``) is seen only by its author, with a "waiting for review"
note, and by the project's moderators; hiding the opening post hides its topic too
(``Topic.hidden_at``). Posts are hidden when the screeners hold them as they are written,
when enough flags pile up, or by a moderator; the moderation domain calls these verbs.

Both verbs are idempotent. ``unhide_post`` of a post held when written (``Post.held``) also
announces what was never announced: ``TopicCreated`` for an opening post, ``PostCreated``
for a reply, so notifications and search react as if it had just been posted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import User
from forum.text import extract_references
from forum.topics.models import Post, Topic
from forum.topics.writing import refresh_last_activity

if TYPE_CHECKING:
    from forum.platform import Platform

REASON_MAX = 200


async def hide_post(platform: Platform, post: Post, reason: str, actor_id: int | None
                    ) -> Post:
    """Hide ``post`` (and its topic when it is the opening post); emit ``PostHidden``.
    ``actor_id`` None: the system hid it (screening, flags). Nothing happens when it is
    hidden already."""
    if post.hidden_at is not None:
        return post
    now = datetime.now(UTC)
    reason = reason.strip()[:REASON_MAX] or "Waiting for review."
    async with in_transaction():
        changed = await Post.filter(id=post.id, hidden_at__isnull=True).update(
            hidden_at=now, hidden_reason=reason)
        if changed and post.number == 1:
            await Topic.filter(id=post.topic_id).update(hidden_at=now)  # type: ignore[attr-defined]
        if changed:
            await refresh_last_activity(post.topic_id)  # type: ignore[attr-defined]
    post.hidden_at, post.hidden_reason = now, reason
    if not changed:
        return post
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    await platform.emit(events.PostHidden(
        project=topic.project_id, topic_id=topic.id, post_id=post.id,  # type: ignore[attr-defined]
        author_id=post.author_id, reason=reason, actor_id=actor_id))  # type: ignore[attr-defined]
    return post


async def unhide_post(platform: Platform, post: Post, actor_id: int | None) -> Post:
    """Make ``post`` visible again (its topic too, for the opening post); emit
    ``PostUnhidden``, and for a post held when written the creation events it never had.
    Nothing happens when it is not hidden."""
    if post.hidden_at is None:
        return post
    held = post.held
    async with in_transaction():
        changed = await Post.filter(id=post.id, hidden_at__isnull=False).update(
            hidden_at=None, hidden_reason="", held=False)
        if changed and post.number == 1:
            await Topic.filter(id=post.topic_id).update(hidden_at=None)  # type: ignore[attr-defined]
        if changed:
            await refresh_last_activity(post.topic_id)  # type: ignore[attr-defined]
    post.hidden_at, post.hidden_reason, post.held = None, "", False
    if not changed:
        return post
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    project_id: int = topic.project_id  # type: ignore[attr-defined]
    author_id: int = post.author_id  # type: ignore[attr-defined]
    await platform.emit(events.PostUnhidden(
        project=project_id, topic_id=topic.id, post_id=post.id, author_id=author_id,
        actor_id=actor_id))
    if held:
        mentioned = await _mentioned_user_ids(post.source, author_id)
        if post.number == 1:
            await platform.emit(events.TopicCreated(
                project=project_id, topic_id=topic.id, post_id=post.id, author_id=author_id,
                category_id=topic.category_id, kind=topic.kind.value,  # type: ignore[attr-defined]
                mentioned_user_ids=mentioned))
        else:
            await platform.emit(events.PostCreated(
                project=project_id, topic_id=topic.id, post_id=post.id, author_id=author_id,
                number=post.number, reply_to_post_id=post.reply_to_id,  # type: ignore[attr-defined]
                mentioned_user_ids=mentioned))
    return post


async def _mentioned_user_ids(source: str, author_id: int) -> tuple[int, ...]:
    names = extract_references(source).usernames
    if not names:
        return ()
    rows = await User.filter(username_lower__in=sorted(names), is_active=True).values_list(
        "id", flat=True)
    return tuple(sorted(int(str(i)) for i in rows if int(str(i)) != author_id))
