"""Votes on posts: +1, -1, or 0 to withdraw; one per user per post, never on your own.

The post's score, upvotes and downvotes change in the same transaction as the vote row,
with the post row locked (PostgreSQL) and counters moved by SQL expressions, so concurrent
votes stay consistent. A topic's score mirrors its opening post's. The gates are asked
(``Act.VOTE_UP`` / ``Act.VOTE_DOWN``; withdrawing asks the act of the vote withdrawn, so vote
locks apply to it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from forum import events
from forum.gates import Act
from forum.topics.access import require_user
from forum.topics.gating import require_allowed
from forum.topics.models import Category, Post, Topic, TopicKind, Vote
from forum.topics.permissions import Viewer, can_read_topic, can_see_post, can_vote
from forum.web.errors import Forbidden, NotFound, UserError

if TYPE_CHECKING:
    from forum.platform import Platform


@dataclass(frozen=True)
class VoteResult:
    post_id: int
    value: int  # the viewer's vote now: -1, 0 or 1
    score: int
    upvotes: int
    downvotes: int


async def check_vote(platform: Platform, viewer: Viewer, post: Post, value: int) -> Topic:
    """401 anonymous; 404 unreadable or deleted; 403 your own post or refused by a gate;
    409 archived topic or hidden post; 422 a value other than -1, 0, 1."""
    require_user(viewer)
    if value not in (-1, 0, 1):
        raise UserError(422, "A vote is 1, -1 or 0.", fields={"value": "must be 1, -1 or 0"})
    topic = await Topic.get(id=post.topic_id)  # type: ignore[attr-defined]
    category = await Category.get(id=topic.category_id)  # type: ignore[attr-defined]
    if not can_read_topic(viewer, topic, category) or (
            post.hidden_at is not None and not can_see_post(viewer, post)):
        raise NotFound("No such post.")
    if post.deleted_at is not None or topic.deleted_at is not None:
        raise UserError(409, "This post was deleted; it takes no votes.", code="deleted")
    if not can_vote(viewer, post):
        raise Forbidden("You cannot vote on your own post.")
    if post.hidden_at is not None:
        raise UserError(409, "This post is waiting for review; it takes no votes yet.",
                        code="hidden")
    if topic.state == "archived":
        raise UserError(409, "This topic is archived; it takes no votes.", code="archived")
    act_value = value
    if value == 0:
        existing = await Vote.get_or_none(post_id=post.id, user_id=viewer.user_id)
        act_value = existing.value if existing is not None else 0
    if act_value != 0:
        await require_allowed(platform, viewer, topic.project_id,  # type: ignore[attr-defined]
                              Act.VOTE_UP if act_value > 0 else Act.VOTE_DOWN,
                              topic_id=topic.id, post_id=post.id,
                              target_user_id=post.author_id)  # type: ignore[attr-defined]
    return topic


async def do_vote(platform: Platform, viewer: Viewer, post: Post, topic: Topic,
                  value: int) -> VoteResult:
    """Cast, change or withdraw the vote; emit ``VoteCast`` when it changed."""
    voter = require_user(viewer)
    try:
        old, fresh = await _apply_vote(post, topic, voter.id, value)
    except IntegrityError:
        # The same voter's first vote raced itself (two clicks); the row exists now.
        old, fresh = await _apply_vote(post, topic, voter.id, value)
    if old != value:
        await platform.emit(events.VoteCast(
            project=topic.project_id, topic_id=topic.id, post_id=post.id,  # type: ignore[attr-defined]
            post_author_id=post.author_id, voter_id=voter.id,  # type: ignore[attr-defined]
            old_value=old, new_value=value,
            is_question=post.number == 1 and topic.kind == TopicKind.QUESTION))
    post.score, post.upvotes, post.downvotes = fresh.score, fresh.upvotes, fresh.downvotes
    return VoteResult(post.id, value, fresh.score, fresh.upvotes, fresh.downvotes)


async def _apply_vote(post: Post, topic: Topic, voter_id: int, value: int
                      ) -> tuple[int, Post]:
    """Store the vote and move the counters in one transaction; (old value, fresh post)."""
    async with in_transaction():
        await Post.filter(id=post.id).select_for_update().first()
        existing = await Vote.get_or_none(post_id=post.id, user_id=voter_id)
        old = existing.value if existing is not None else 0
        if old != value:
            if value == 0 and existing is not None:
                await existing.delete()
            elif existing is not None:
                existing.value = value
                await existing.save(update_fields=["value", "updated_at"])
            else:
                await Vote.create(post_id=post.id, user_id=voter_id, value=value)
            up = (value == 1) - (old == 1)
            down = (value == -1) - (old == -1)
            await Post.filter(id=post.id).update(
                score=F("score") + (value - old), upvotes=F("upvotes") + up,
                downvotes=F("downvotes") + down)
            if post.number == 1:
                await Topic.filter(id=topic.id).update(score=F("score") + (value - old))
        fresh = await Post.get(id=post.id)
    return old, fresh


async def vote(platform: Platform, viewer: Viewer, post: Post, value: int) -> VoteResult:
    """Check, then vote."""
    topic = await check_vote(platform, viewer, post, value)
    return await do_vote(platform, viewer, post, topic, value)


async def vote_of(user_id: int | None, post_ids: list[int]) -> dict[int, int]:
    """The user's votes on these posts (post id -> value), for showing their buttons."""
    if user_id is None or not post_ids:
        return {}
    rows = await Vote.filter(user_id=user_id, post_id__in=post_ids).values_list(
        "post_id", "value")
    return {int(pid): int(v) for pid, v in rows}
