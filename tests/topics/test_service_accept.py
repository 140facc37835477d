"""Accepted answers: who may accept, which posts qualify, change and withdraw."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forum import events
from forum.platform import Platform
from forum.topics import service
from forum.topics.models import Post, Topic, TopicState
from forum.web.errors import UserError
from tests.topics.conftest import World, answer, start_topic


async def accept(platform: Platform, world: World, topic: Topic, user: object,
                 post_id: int | None) -> Topic:
    viewer = await world.viewer(user)  # type: ignore[arg-type]
    return await service.accept(platform, viewer, topic, post_id)


async def test_asker_accepts_changes_and_withdraws(platform: Platform, world: World,
                                                   emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world)
    first = await answer(platform, world, topic, world.outsider)
    second = await answer(platform, world, topic, world.supporter)
    await accept(platform, world, topic, world.member, first.id)
    stored = await Topic.get(id=topic.id)
    assert (stored.state, stored.accepted_post_id) == (TopicState.SOLVED, first.id)
    await accept(platform, world, stored, world.member, second.id)
    stored = await Topic.get(id=topic.id)
    assert (stored.state, stored.accepted_post_id) == (TopicState.SOLVED, second.id)
    await accept(platform, world, stored, world.member, None)
    stored = await Topic.get(id=topic.id)
    assert (stored.state, stored.accepted_post_id) == (TopicState.OPEN, None)
    accepted = [e for e in emitted if isinstance(e, events.AnswerAccepted)]
    assert [(e.post_id, e.answer_author_id, e.previous_post_id, e.previous_answer_author_id)
            for e in accepted] == [
        (first.id, world.outsider.id, None, None),
        (second.id, world.supporter.id, first.id, world.outsider.id),
        (None, None, second.id, world.supporter.id)]
    assert all(e.accepter_id == world.member.id for e in accepted)


async def test_a_maintainer_may_accept_a_stranger_may_not(platform: Platform, world: World
                                                          ) -> None:
    topic = await start_topic(platform, world)
    post = await answer(platform, world, topic, world.outsider)
    for stranger in (world.outsider, world.supporter, world.moderator):
        with pytest.raises(UserError) as refused:
            await accept(platform, world, topic, stranger, post.id)
        assert refused.value.status == 403
        stored = await Topic.get(id=topic.id)
        assert (stored.state, stored.accepted_post_id) == (TopicState.OPEN, None)
    await accept(platform, world, topic, world.maintainer, post.id)
    assert (await Topic.get(id=topic.id)).accepted_post_id == post.id


async def test_only_a_live_reply_of_this_question_can_be_accepted(
        platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    other = await start_topic(platform, world, title="Some other question",
                              source="Another body.")
    foreign = await answer(platform, world, other, world.outsider)
    opening = await Post.get(topic_id=topic.id, number=1)
    deleted = await answer(platform, world, topic, world.outsider, "A deleted answer.")
    await Post.filter(id=deleted.id).update(deleted_at=datetime.now(UTC))
    for post_id in (foreign.id, opening.id, deleted.id, 999_999):
        with pytest.raises(UserError) as refused:
            await accept(platform, world, topic, world.member, post_id)
        assert refused.value.status == 422, post_id
        stored = await Topic.get(id=topic.id)
        assert (stored.state, stored.accepted_post_id) == (TopicState.OPEN, None)


async def test_discussions_have_no_accepted_answer(platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world, category=world.categories["ideas"])
    post = await answer(platform, world, topic, world.outsider)
    with pytest.raises(UserError) as refused:
        await accept(platform, world, topic, world.member, post.id)
    assert refused.value.status == 422
    assert (await Topic.get(id=topic.id)).accepted_post_id is None


async def test_deleting_the_accepted_answer_reopens_the_question(
        platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    post = await answer(platform, world, topic, world.outsider)
    await accept(platform, world, topic, world.member, post.id)
    await service.delete_post(platform, await world.viewer(world.moderator), post)
    stored = await Topic.get(id=topic.id)
    assert (stored.state, stored.accepted_post_id, stored.reply_count) == (
        TopicState.OPEN, None, 0)
