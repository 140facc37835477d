"""Votes: cast, change, withdraw; never on your own or a deleted post; counts stay right."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from forum import events
from forum.platform import Platform
from forum.topics import service
from forum.topics.models import Post, Topic, Vote
from forum.web.errors import UserError
from tests.factories import make_user
from tests.topics.conftest import World, answer, snapshot, start_topic


async def cast(platform: Platform, world: World, post: Post, user: object, value: int
               ) -> service.VoteResult:
    viewer = await world.viewer(user)  # type: ignore[arg-type]
    return await service.vote(platform, viewer, post, value)


async def test_vote_change_and_withdraw(platform: Platform, world: World,
                                        emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world)
    post = await answer(platform, world, topic, world.outsider)
    result = await cast(platform, world, post, world.member, 1)
    assert (result.value, result.score, result.upvotes, result.downvotes) == (1, 1, 1, 0)
    result = await cast(platform, world, post, world.member, 1)  # the same again: no change
    assert result.score == 1
    result = await cast(platform, world, post, world.member, -1)
    assert (result.score, result.upvotes, result.downvotes) == (-1, 0, 1)
    result = await cast(platform, world, post, world.member, 0)
    assert (result.value, result.score, result.upvotes, result.downvotes) == (0, 0, 0, 0)
    assert not await Vote.exists(post_id=post.id)
    stored = await Post.get(id=post.id)
    assert (stored.score, stored.upvotes, stored.downvotes) == (0, 0, 0)
    cast_events = [(e.old_value, e.new_value) for e in emitted if isinstance(e, events.VoteCast)]
    assert cast_events == [(0, 1), (1, -1), (-1, 0)]
    first = next(e for e in emitted if isinstance(e, events.VoteCast))
    assert (first.post_author_id, first.voter_id, first.is_question) == (
        world.outsider.id, world.member.id, False)


async def test_topic_score_mirrors_the_opening_post(platform: Platform, world: World,
                                                    emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world)
    opening = await Post.get(topic_id=topic.id, number=1)
    await cast(platform, world, opening, world.outsider, 1)
    await cast(platform, world, opening, world.supporter, 1)
    await cast(platform, world, opening, world.owner, -1)
    assert (await Topic.get(id=topic.id)).score == 1
    reply = await answer(platform, world, topic, world.outsider)
    await cast(platform, world, reply, world.member, 1)
    assert (await Topic.get(id=topic.id)).score == 1
    assert next(e for e in emitted if isinstance(e, events.VoteCast)).is_question


async def test_no_vote_on_your_own_post(platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    opening = await Post.get(topic_id=topic.id, number=1)
    before = await snapshot()
    with pytest.raises(UserError) as refused:
        await cast(platform, world, opening, world.member, 1)
    assert refused.value.status == 403 and "own" in refused.value.message
    assert await snapshot() == before
    assert (await Post.get(id=opening.id)).score == 0


async def test_no_vote_on_a_deleted_post_or_anonymously(platform: Platform, world: World
                                                        ) -> None:
    topic = await start_topic(platform, world)
    post = await answer(platform, world, topic, world.outsider)
    await Post.filter(id=post.id).update(deleted_at=datetime.now(UTC))
    await post.refresh_from_db()
    before = await snapshot()
    with pytest.raises(UserError) as deleted:
        await cast(platform, world, post, world.member, 1)
    assert deleted.value.status == 409
    with pytest.raises(UserError) as anonymous:
        await cast(platform, world, post, None, 1)
    assert anonymous.value.status == 401
    with pytest.raises(UserError) as bad_value:
        await cast(platform, world, await Post.get(topic_id=topic.id, number=1),
                   world.outsider, 2)
    assert bad_value.value.status == 422
    assert await snapshot() == before


async def test_no_vote_on_what_you_cannot_read(platform: Platform, world: World) -> None:
    report = await start_topic(platform, world, world.outsider, world.categories["security"])
    opening = await Post.get(topic_id=report.id, number=1)
    with pytest.raises(UserError) as refused:
        await cast(platform, world, opening, world.member, 1)
    assert refused.value.status == 404
    assert not await Vote.exists(post_id=opening.id)


async def test_concurrent_votes_keep_the_counts_exact(platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    post = await Post.get(topic_id=topic.id, number=1)
    voters = [await make_user() for _ in range(8)]
    viewers = [await world.viewer(v) for v in voters]
    await asyncio.gather(*(service.vote(platform, viewer, post, 1 if i % 4 else -1)
                           for i, viewer in enumerate(viewers)))
    stored = await Post.get(id=post.id)
    assert (stored.upvotes, stored.downvotes, stored.score) == (6, 2, 4)
    assert (await Topic.get(id=topic.id)).score == 4
    assert await Vote.filter(post_id=post.id).count() == 8
    assert await service.vote_of(voters[1].id, [post.id]) == {post.id: 1}
