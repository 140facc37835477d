"""Accepting an answer: the asker or a maintainer marks one reply of a question as the
answer (the topic becomes solved), changes it, or withdraws it (the topic is open again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from forum import events
from forum.gates import Act
from forum.topics.access import require_user
from forum.topics.gating import require_allowed
from forum.topics.models import Category, Post, Topic, TopicKind, TopicState
from forum.topics.permissions import Viewer, can_accept, can_read_topic
from forum.web.errors import Forbidden, Invalid, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform


async def check_accept(platform: Platform, viewer: Viewer, topic: Topic,
                       post_id: int | None) -> Post | None:
    """401 anonymous; 404 unreadable topic; 403 neither the asker nor a maintainer, or
    refused by a gate (``Act.ACCEPT``); 409 deleted or archived topic; 422 not a question,
    or the post is not a live (not deleted, not hidden) reply of it."""
    require_user(viewer)
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    if not can_read_topic(viewer, topic, category):
        raise NotFound("No such topic.")
    if not can_accept(viewer, topic):
        raise Forbidden("Only the person who asked, or a project maintainer, accepts an "
                        "answer.")
    if topic.deleted_at is not None or topic.state == TopicState.ARCHIVED:
        raise UserError(409, "This topic is deleted or archived.", code="topic_closed")
    if topic.kind != TopicKind.QUESTION:
        raise Invalid("Only questions have accepted answers.")
    if post_id is None:
        await require_allowed(platform, viewer, topic.project_id, Act.ACCEPT,  # type: ignore[attr-defined]
                              topic_id=topic.id)
        return None
    post = await Post.get_or_none(id=post_id, topic_id=topic.id)
    if post is None:
        raise Invalid("That post is not an answer to this question.",
                      fields={"post_id": "not a post of this topic"})
    if post.number == 1:
        raise Invalid("The question itself cannot be its answer.",
                      fields={"post_id": "is the question"})
    if post.deleted_at is not None:
        raise Invalid("That answer was deleted.", fields={"post_id": "deleted"})
    if post.hidden_at is not None:
        raise Invalid("That answer is waiting for review.", fields={"post_id": "hidden"})
    await require_allowed(platform, viewer, topic.project_id, Act.ACCEPT,  # type: ignore[attr-defined]
                          topic_id=topic.id, post_id=post.id,
                          target_user_id=post.author_id)  # type: ignore[attr-defined]
    return post


async def do_accept(platform: Platform, viewer: Viewer, topic: Topic,
                    post: Post | None) -> Topic:
    """Record the accepted answer (None withdraws); emit ``AnswerAccepted`` on a change."""
    accepter = require_user(viewer)
    previous_id = topic.accepted_post_id
    new_id = post.id if post is not None else None
    if previous_id == new_id:
        return topic
    previous_author: int | None = None
    if previous_id is not None:
        previous = await Post.get_or_none(id=previous_id)
        previous_author = previous.author_id if previous is not None else None  # type: ignore[attr-defined]
    state = topic.state
    if new_id is not None and state == TopicState.OPEN:
        state = TopicState.SOLVED
    elif new_id is None and state == TopicState.SOLVED:
        state = TopicState.OPEN
    async with in_transaction():
        await Topic.filter(id=topic.id).update(accepted_post_id=new_id, state=state)
    topic.accepted_post_id, topic.state = new_id, state
    await platform.emit(events.AnswerAccepted(
        project=topic.project_id, topic_id=topic.id, post_id=new_id,  # type: ignore[attr-defined]
        answer_author_id=post.author_id if post is not None else None,  # type: ignore[attr-defined]
        accepter_id=accepter.id, previous_post_id=previous_id,
        previous_answer_author_id=previous_author))
    return topic


async def accept(platform: Platform, viewer: Viewer, topic: Topic, post_id: int | None
                 ) -> Topic:
    """Check, then accept (``post_id`` None withdraws)."""
    post = await check_accept(platform, viewer, topic, post_id)
    return await do_accept(platform, viewer, topic, post)
