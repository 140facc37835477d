"""Replying: numbers and activity, reply_to and quotes, and every topic that refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forum import events
from forum.platform import Platform
from forum.topics import service
from forum.topics.models import Access, Category, Post, Topic, TopicState
from forum.topics.schemas import ReplyIn
from forum.web.errors import UserError
from tests.topics.conftest import World, answer, snapshot, start_topic


async def test_reply_numbers_posts_and_keeps_last_activity(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world)
    first = await answer(platform, world, topic, world.outsider)
    second = await answer(platform, world, topic, world.supporter, reply_to=first.id)
    assert (first.number, second.number) == (2, 3)
    assert second.reply_to_id == first.id  # type: ignore[attr-defined]
    await topic.refresh_from_db()
    assert topic.reply_count == 2
    assert topic.last_poster_id == world.supporter.id  # type: ignore[attr-defined]
    assert topic.last_posted_at >= second.created_at.replace(microsecond=0)
    created = [e for e in emitted if isinstance(e, events.PostCreated)]
    assert [(e.post_id, e.number, e.reply_to_post_id) for e in created] == [
        (first.id, 2, None), (second.id, 3, first.id)]


async def test_reply_to_must_be_a_post_of_the_same_topic(platform: Platform, world: World
                                                         ) -> None:
    topic = await start_topic(platform, world)
    elsewhere = await start_topic(platform, world, title="Another question here",
                                  source="Another body.")
    foreign = await Post.get(topic_id=elsewhere.id, number=1)
    before = await snapshot()
    with pytest.raises(UserError) as refused:
        await answer(platform, world, topic, world.outsider, reply_to=foreign.id)
    assert refused.value.status == 422 and "reply_to" in refused.value.fields
    assert await snapshot() == before


async def test_quotes_and_mentions_are_recorded_in_the_event(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world)
    opening = await Post.get(topic_id=topic.id, number=1)
    source = (f'[quote="{world.member.username}, post:1, topic:{topic.id}"]\n'
              f"I tried everything.\n[/quote]\n\n@{world.member.username} try this.")
    post = await answer(platform, world, topic, world.outsider, source=source)
    event = next(e for e in emitted if isinstance(e, events.PostCreated))
    assert event.post_id == post.id
    assert event.quoted_post_ids == (opening.id,)
    assert event.mentioned_user_ids == (world.member.id,)


@pytest.mark.parametrize(("change", "status"), [
    ({"locked": True}, 409), ({"state": TopicState.CLOSED}, 409),
    ({"state": TopicState.ARCHIVED}, 409), ({"deleted_at": datetime.now(UTC)}, 404),
])
async def test_locked_closed_archived_or_deleted_topics_take_no_replies(
        platform: Platform, world: World, change: dict[str, object], status: int) -> None:
    topic = await start_topic(platform, world)
    await Topic.filter(id=topic.id).update(**change)
    await topic.refresh_from_db()
    before = await snapshot()
    with pytest.raises(UserError) as refused:
        await answer(platform, world, topic, world.outsider)
    assert refused.value.status == status
    assert refused.value.message
    assert await snapshot() == before
    await topic.refresh_from_db()
    assert topic.reply_count == 0


async def test_moderators_may_reply_to_locked_and_closed_but_not_archived(
        platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    await Topic.filter(id=topic.id).update(locked=True, state=TopicState.CLOSED)
    await topic.refresh_from_db()
    assert (await answer(platform, world, topic, world.moderator)).number == 2
    await Topic.filter(id=topic.id).update(state=TopicState.ARCHIVED)
    await topic.refresh_from_db()
    with pytest.raises(UserError) as refused:
        await answer(platform, world, topic, world.moderator)
    assert refused.value.status == 409


async def test_members_only_categories_take_replies_from_members_only(
        platform: Platform, world: World) -> None:
    category = await Category.create(project_id=world.project.id, name="Members",
                                     slug="members", post_access=Access.MEMBERS)
    topic = await start_topic(platform, world, world.member, category)
    before = await snapshot()
    with pytest.raises(UserError) as refused:
        await answer(platform, world, topic, world.outsider)
    assert refused.value.status == 403
    assert await snapshot() == before
    # Announcements (team posts) still take replies from every reader.
    news = await start_topic(platform, world, world.owner, world.categories["announcements"])
    assert (await answer(platform, world, news, world.outsider)).number == 2


async def test_private_reports_and_anonymous_replies(platform: Platform, world: World) -> None:
    report = await start_topic(platform, world, world.outsider, world.categories["security"])
    before = await snapshot()
    with pytest.raises(UserError) as refused:
        await answer(platform, world, report, world.member)
    assert refused.value.status == 404
    viewer = await world.viewer(None)
    with pytest.raises(UserError) as anonymous:
        await service.reply(platform, viewer, report, ReplyIn(source="Hello there"))
    assert anonymous.value.status == 401
    assert await snapshot() == before
    assert (await answer(platform, world, report, world.maintainer)).number == 2
    assert (await answer(platform, world, report, world.outsider)).number == 3
