"""Changing topics and posts after the fact: state, pin, lock, move, tags, title, and
soft delete with restore.

Moderators (``Viewer.is_moderator``) do all of it; a topic's author may change its tags and
(within the edit window) its title, and authors may delete their own posts; users whom no
gate refuses ``Act.CLOSE_REOPEN`` (the reputation privilege) may close and reopen topics.
Deleting the opening post deletes the topic. Every change emits ``TopicChanged`` or
``PostDeleted``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from forum import events
from forum.gates import Act
from forum.projects.models import Project
from forum.topics.access import require_user
from forum.topics.gating import require_allowed
from forum.topics.models import Category, Post, Topic, TopicKind, TopicState
from forum.topics.permissions import (
    Viewer,
    can_delete_post,
    can_moderate_topic,
    can_post_in_category,
    can_read_topic,
    can_restore,
    within_edit_window,
)
from forum.topics.schemas import PostEditIn, TopicPatch
from forum.topics.tags import adjust_counts, check_tags, set_topic_tags
from forum.topics.writing import refresh_last_activity
from forum.web.errors import Forbidden, Invalid, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform

_MODERATORS_ONLY = "Only the project's moderators may do that."


async def _emit_changed(platform: Platform, topic: Topic, viewer: Viewer, change: str) -> None:
    await platform.emit(events.TopicChanged(
        project=topic.project_id, topic_id=topic.id,  # type: ignore[attr-defined]
        actor_id=viewer.user_id, change=change))


def _require_moderator(viewer: Viewer) -> None:
    require_user(viewer)
    if not can_moderate_topic(viewer):
        raise Forbidden(_MODERATORS_ONLY)


async def check_state_change(platform: Platform, viewer: Viewer, topic: Topic,
                             state: TopicState) -> None:
    """Moderators set any state; others may close or reopen (not archive, and not a topic
    closed as archived) when no gate refuses them ``Act.CLOSE_REOPEN``."""
    require_user(viewer)
    if state == TopicState.SOLVED and topic.accepted_post_id is None:
        raise Invalid("A topic is solved by accepting an answer.",
                      fields={"state": "accept an answer instead"})
    if can_moderate_topic(viewer):
        return
    if state not in (TopicState.OPEN, TopicState.CLOSED) or (
            topic.state == TopicState.ARCHIVED or topic.deleted_at is not None):
        raise Forbidden(_MODERATORS_ONLY)
    await require_allowed(platform, viewer, topic.project_id, Act.CLOSE_REOPEN,  # type: ignore[attr-defined]
                          topic_id=topic.id, target_user_id=topic.author_id)  # type: ignore[attr-defined]


async def set_state(platform: Platform, viewer: Viewer, topic: Topic,
                    state: TopicState) -> Topic:
    """Open, close or archive a topic (see ``check_state_change``). "solved" comes from
    accepting. Reopening clears the reason a topic was closed with."""
    await check_state_change(platform, viewer, topic, state)
    if state == TopicState.OPEN and topic.accepted_post_id is not None:
        state = TopicState.SOLVED  # reopening a solved question keeps its answer
    if topic.state != state:
        changes: dict[str, object] = {"state": state}
        if state != TopicState.CLOSED:
            changes.update(close_reason="", close_detail="", duplicate_of_id=None)
        await Topic.filter(id=topic.id).update(**changes)
        await topic.refresh_from_db()
        await _emit_changed(platform, topic, viewer, "state")
    return topic


async def pin(platform: Platform, viewer: Viewer, topic: Topic, pinned: bool) -> Topic:
    _require_moderator(viewer)
    if topic.pinned != pinned:
        await Topic.filter(id=topic.id).update(pinned=pinned)
        topic.pinned = pinned
        await _emit_changed(platform, topic, viewer, "pinned")
    return topic


async def lock(platform: Platform, viewer: Viewer, topic: Topic, locked: bool) -> Topic:
    _require_moderator(viewer)
    if topic.locked != locked:
        await Topic.filter(id=topic.id).update(locked=locked)
        topic.locked = locked
        await _emit_changed(platform, topic, viewer, "locked")
    return topic


async def move_topic(platform: Platform, viewer: Viewer, topic: Topic,
                     category_id: int) -> Topic:
    """Move to another category of the same project (moderators, who must be able to post
    there). Moving into a private category makes the topic private."""
    _require_moderator(viewer)
    if category_id == topic.category_id:  # type: ignore[attr-defined]
        return topic
    target = await Category.get_or_none(id=category_id, project_id=topic.project_id)  # type: ignore[attr-defined]
    if target is None:
        raise Invalid("No such category.", fields={"category_id": "unknown category"})
    if not can_post_in_category(viewer, target):
        raise Forbidden(f'You may not post in "{target.name}".')
    changes: dict[str, object] = {"category_id": target.id}
    if target.private_topics:
        changes.update(is_private=True, kind=TopicKind.SECURITY_REPORT)
    async with in_transaction():
        await Topic.filter(id=topic.id).update(**changes)
        if topic.deleted_at is None:
            await Category.filter(id=topic.category_id).update(  # type: ignore[attr-defined]
                topic_count=F("topic_count") - 1)
            await Category.filter(id=target.id).update(topic_count=F("topic_count") + 1)
    await topic.refresh_from_db()
    await _emit_changed(platform, topic, viewer, "moved")
    return topic


async def retag(platform: Platform, viewer: Viewer, topic: Topic, tags: list[str]) -> Topic:
    """Replace a topic's tags (its author or a moderator)."""
    require_user(viewer)
    if not (viewer.is_moderator or viewer.user_id == topic.author_id):  # type: ignore[attr-defined]
        raise Forbidden("Only the topic's author or a moderator may change its tags.")
    await check_tags(platform, viewer, topic.project_id, tags)  # type: ignore[attr-defined]
    async with in_transaction():
        changed = await set_topic_tags(topic, tags)
    if changed:
        await _emit_changed(platform, topic, viewer, "tags")
    return topic


async def rename(platform: Platform, viewer: Viewer, topic: Topic, title: str) -> Topic:
    """A new title is an edit of the opening post (a revision keeps the old one)."""
    from forum.topics.edit import edit_post

    opening = await Post.get(topic_id=topic.id, number=1)
    await edit_post(platform, viewer, opening,
                    PostEditIn(source=opening.source, title=title))
    await topic.refresh_from_db()
    return topic


async def update_topic(platform: Platform, viewer: Viewer, topic: Topic,
                       data: TopicPatch) -> Topic:
    """Apply a ``TopicPatch``: permissions and values are checked before anything changes,
    then each field goes through the verb that changes it."""
    require_user(viewer)
    moderating = (data.pinned, data.locked, data.category_id)
    if any(v is not None for v in moderating) and not can_moderate_topic(viewer):
        raise Forbidden(_MODERATORS_ONLY)
    if data.state is not None:
        await check_state_change(platform, viewer, topic, data.state)
    is_author = viewer.user_id == topic.author_id  # type: ignore[attr-defined]
    if data.tags is not None and not (viewer.is_moderator or is_author):
        raise Forbidden("Only the topic's author or a moderator may change its tags.")
    if data.title is not None and not viewer.is_moderator:
        project = await Project.get(id=topic.project_id)  # type: ignore[attr-defined]
        opening = await Post.get(topic_id=topic.id, number=1)
        if not is_author or not within_edit_window(opening, project):
            raise Forbidden("You may not change this topic's title.")
    if data.category_id is not None and not await Category.exists(
            id=data.category_id, project_id=topic.project_id):  # type: ignore[attr-defined]
        raise Invalid("No such category.", fields={"category_id": "unknown category"})
    if data.tags is not None:
        await check_tags(platform, viewer, topic.project_id, data.tags)  # type: ignore[attr-defined]
    if data.title is not None:
        topic = await rename(platform, viewer, topic, data.title)
    if data.tags is not None:
        topic = await retag(platform, viewer, topic, data.tags)
    if data.category_id is not None:
        topic = await move_topic(platform, viewer, topic, data.category_id)
    if data.state is not None:
        topic = await set_state(platform, viewer, topic, data.state)
    if data.pinned is not None:
        topic = await pin(platform, viewer, topic, data.pinned)
    if data.locked is not None:
        topic = await lock(platform, viewer, topic, data.locked)
    return topic


async def delete_topic(platform: Platform, viewer: Viewer, topic: Topic) -> Topic:
    """Soft-delete a topic (moderators, or its author while nobody has replied)."""
    require_user(viewer)
    own = viewer.user_id == topic.author_id  # type: ignore[attr-defined]
    if not (viewer.is_moderator or (own and topic.reply_count == 0)):
        raise Forbidden(_MODERATORS_ONLY)
    if topic.deleted_at is not None:
        return topic
    now = datetime.now(UTC)
    async with in_transaction():
        await Topic.filter(id=topic.id).update(deleted_at=now, deleted_by_id=viewer.user_id)
        await _topic_counts(topic, -1)
    topic.deleted_at = now
    await _emit_changed(platform, topic, viewer, "deleted")
    return topic


async def restore_topic(platform: Platform, viewer: Viewer, topic: Topic) -> Topic:
    require_user(viewer)
    if not can_restore(viewer):
        raise Forbidden(_MODERATORS_ONLY)
    if topic.deleted_at is None:
        return topic
    if topic.merged_into_id is not None:
        raise UserError(409, "This topic was merged into another one; its posts are there.",
                        code="merged")
    async with in_transaction():
        await Topic.filter(id=topic.id).update(deleted_at=None, deleted_by_id=None)
        await _topic_counts(topic, 1)
    topic.deleted_at = None
    await _emit_changed(platform, topic, viewer, "restored")
    return topic


async def _topic_counts(topic: Topic, delta: int) -> None:
    await Category.filter(id=topic.category_id).update(  # type: ignore[attr-defined]
        topic_count=F("topic_count") + delta)
    tag_ids = [t.id for t in await topic.tags.all()]
    await adjust_counts(tag_ids, delta)


async def delete_post(platform: Platform, viewer: Viewer, post: Post) -> Post:
    """Soft-delete a post: moderators any, authors their own. The opening post takes its
    topic with it. An accepted answer stops being accepted."""
    require_user(viewer)
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    if not can_read_topic(viewer, topic, category):
        raise NotFound("No such post.")
    if not can_delete_post(viewer, post):
        raise Forbidden("Only moderators delete other people's posts.")
    if post.deleted_at is not None:
        return post
    if post.number == 1:
        await delete_topic(platform, viewer, topic)
    now = datetime.now(UTC)
    async with in_transaction():
        await Post.filter(id=post.id).update(deleted_at=now, deleted_by_id=viewer.user_id)
        if topic.accepted_post_id == post.id:
            state = TopicState.OPEN if topic.state == TopicState.SOLVED else topic.state
            await Topic.filter(id=topic.id).update(accepted_post_id=None, state=state)
        await refresh_last_activity(topic.id)
    post.deleted_at = now
    await _emit_post_deleted(platform, viewer, topic, post, restored=False)
    return post


async def restore_post(platform: Platform, viewer: Viewer, post: Post) -> Post:
    """Undelete a post (moderators); the opening post restores its topic."""
    require_user(viewer)
    if not can_restore(viewer):
        raise Forbidden(_MODERATORS_ONLY)
    if post.deleted_at is None:
        return post
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    if post.number == 1:
        await restore_topic(platform, viewer, topic)
    elif topic.deleted_at is not None:
        raise UserError(409, "Restore the topic first.", code="topic_deleted")
    async with in_transaction():
        await Post.filter(id=post.id).update(deleted_at=None, deleted_by_id=None)
        await refresh_last_activity(topic.id)
    post.deleted_at = None
    await _emit_post_deleted(platform, viewer, topic, post, restored=True)
    return post


async def _emit_post_deleted(platform: Platform, viewer: Viewer, topic: Topic, post: Post,
                             *, restored: bool) -> None:
    await platform.emit(events.PostDeleted(
        project=topic.project_id, topic_id=topic.id, post_id=post.id,  # type: ignore[attr-defined]
        author_id=post.author_id, actor_id=viewer.user_id or 0,  # type: ignore[attr-defined]
        restored=restored))
