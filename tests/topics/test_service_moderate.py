"""Moderation: soft delete and restore, state, pin, lock, move, tags; views and bookmarks."""

from __future__ import annotations

import pytest

from forum import events
from forum.gates import Act
from forum.platform import Platform
from forum.topics import service
from forum.topics.models import Bookmark, Category, Post, Tag, Topic, TopicKind, TopicState
from forum.topics.schemas import TopicPatch
from forum.web.errors import UserError
from tests.topics.conftest import World, answer, start_topic
from tests.topics.gatekeeper import Gatekeeper


async def test_others_posts_are_deleted_by_moderators_only(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world)
    post = await answer(platform, world, topic, world.outsider)
    for user in (world.member, world.supporter):
        with pytest.raises(UserError) as refused:
            await service.delete_post(platform, await world.viewer(user), post)
        assert refused.value.status == 403
    assert (await Post.get(id=post.id)).deleted_at is None
    await service.delete_post(platform, await world.viewer(world.moderator), post)
    assert (await Post.get(id=post.id)).deleted_at is not None
    assert (await Topic.get(id=topic.id)).reply_count == 0
    deleted = next(e for e in emitted if isinstance(e, events.PostDeleted))
    assert (deleted.post_id, deleted.author_id, deleted.actor_id, deleted.restored) == (
        post.id, world.outsider.id, world.moderator.id, False)


async def test_authors_delete_their_own_posts_only_moderators_restore(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world)
    post = await answer(platform, world, topic, world.outsider)
    await service.delete_post(platform, await world.viewer(world.outsider), post)
    for user in (world.outsider, world.member, world.supporter):
        with pytest.raises(UserError) as refused:
            await service.restore_post(platform, await world.viewer(user), post)
        assert refused.value.status == 403
    assert (await Post.get(id=post.id)).deleted_at is not None
    await service.restore_post(platform, await world.viewer(world.owner), post)
    assert (await Post.get(id=post.id)).deleted_at is None
    stored = await Topic.get(id=topic.id)
    assert stored.reply_count == 1 and stored.last_poster_id == world.outsider.id  # type: ignore[attr-defined]
    assert [e.restored for e in emitted if isinstance(e, events.PostDeleted)] == [False, True]


async def test_deleting_the_opening_post_deletes_the_topic(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world, tags=["parser"])
    opening = await Post.get(topic_id=topic.id, number=1)
    moderator = await world.viewer(world.moderator)
    await service.delete_post(platform, moderator, opening)
    stored = await Topic.get(id=topic.id)
    assert stored.deleted_at is not None
    assert (await Category.get(id=world.questions.id)).topic_count == 0
    assert (await Tag.get(name="parser")).topic_count == 0
    with pytest.raises(UserError) as hidden:
        await service.access_topic(await world.viewer(world.member), world.project, topic.id)
    assert hidden.value.status == 404
    assert (await service.access_topic(moderator, world.project, topic.id))[0].id == topic.id
    await service.restore_post(platform, moderator, opening)
    assert (await Topic.get(id=topic.id)).deleted_at is None
    assert (await Category.get(id=world.questions.id)).topic_count == 1
    assert (await Tag.get(name="parser")).topic_count == 1
    changes = [e.change for e in emitted if isinstance(e, events.TopicChanged)]
    assert changes == ["deleted", "restored"]


async def test_a_topic_with_replies_is_deleted_by_moderators_only(
        platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    await answer(platform, world, topic, world.outsider)
    await topic.refresh_from_db()
    with pytest.raises(UserError) as refused:
        await service.delete_topic(platform, await world.viewer(world.member), topic)
    assert refused.value.status == 403
    assert (await Topic.get(id=topic.id)).deleted_at is None
    own = await start_topic(platform, world, title="Asked by mistake here",
                            source="Oops, wrong place.")
    await service.delete_topic(platform, await world.viewer(world.member), own)
    assert (await Topic.get(id=own.id)).deleted_at is not None


async def test_state_pin_lock_and_move_are_for_moderators(
        platform: Platform, world: World, emitted: list[events.Event],
        gatekeeper: Gatekeeper) -> None:
    gatekeeper.refuse[Act.CLOSE_REOPEN] = "Closing topics needs 500 reputation."
    topic = await start_topic(platform, world)
    member = await world.viewer(world.member)
    for patch in ({"state": "closed"}, {"state": "archived"}, {"pinned": True}, {"locked": True},
                  {"category_id": world.categories["ideas"].id}):
        with pytest.raises(UserError) as refused:
            await service.update_topic(platform, member, topic, TopicPatch.model_validate(patch))
        assert refused.value.status == 403, patch
    stored = await Topic.get(id=topic.id)
    assert (stored.state, stored.pinned, stored.locked, stored.category_id) == (  # type: ignore[attr-defined]
        TopicState.OPEN, False, False, world.questions.id)
    moderator = await world.viewer(world.moderator)
    await service.update_topic(platform, moderator, topic, TopicPatch(
        state=TopicState.CLOSED, pinned=True, locked=True,
        category_id=world.categories["ideas"].id))
    stored = await Topic.get(id=topic.id)
    assert (stored.state, stored.pinned, stored.locked, stored.category_id) == (  # type: ignore[attr-defined]
        TopicState.CLOSED, True, True, world.categories["ideas"].id)
    assert (await Category.get(id=world.questions.id)).topic_count == 0
    assert (await Category.get(id=world.categories["ideas"].id)).topic_count == 1
    changes = {e.change for e in emitted if isinstance(e, events.TopicChanged)}
    assert changes == {"state", "pinned", "locked", "moved"}
    with pytest.raises(UserError) as solved:
        await service.set_state(platform, moderator, stored, TopicState.SOLVED)
    assert solved.value.status == 422


async def test_moving_into_security_makes_a_topic_private(platform: Platform, world: World
                                                          ) -> None:
    topic = await start_topic(platform, world)
    await service.move_topic(platform, await world.viewer(world.moderator), topic,
                             world.categories["security"].id)
    stored = await Topic.get(id=topic.id)
    assert stored.is_private and stored.kind == TopicKind.SECURITY_REPORT


async def test_authors_retag_and_rename_others_may_not(platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world, tags=["old"])
    member = await world.viewer(world.member)
    await service.update_topic(platform, member, topic,
                               TopicPatch(tags=["new", "more"], title="Renamed by its author"))
    stored = await Topic.get(id=topic.id)
    assert stored.slug == "renamed-by-its-author"
    assert await service.topic_tag_names(stored) == ["more", "new"]
    assert (await Tag.get(name="old")).topic_count == 0
    assert (await Tag.get(name="new")).topic_count == 1
    outsider = await world.viewer(world.outsider)
    for patch in (TopicPatch(tags=["x"]), TopicPatch(title="Hijacked title")):
        with pytest.raises(UserError) as refused:
            await service.update_topic(platform, outsider, stored, patch)
        assert refused.value.status == 403
    assert (await Topic.get(id=topic.id)).title == "Renamed by its author"


async def test_views_are_counted_once_per_viewer_per_day(platform: Platform, world: World
                                                         ) -> None:
    topic = await start_topic(platform, world)
    assert await service.record_view(topic, "user:1")
    assert not await service.record_view(topic, "user:1")
    assert await service.record_view(topic, "addr:abcdef")
    assert (await Topic.get(id=topic.id)).view_count == 2


async def test_bookmarks_toggle(platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    post = await Post.get(topic_id=topic.id, number=1)
    viewer = await world.viewer(world.outsider)
    assert await service.bookmark(viewer, post)
    assert await service.bookmark(viewer, post)  # twice: still one
    assert await Bookmark.filter(user_id=world.outsider.id).count() == 1
    assert await service.bookmarked_post_ids(world.outsider.id, [post.id]) == {post.id}
    assert not await service.toggle_bookmark(viewer, post)
    assert not await Bookmark.exists(user_id=world.outsider.id)
    assert await service.toggle_bookmark(viewer, post)
    with pytest.raises(UserError) as anonymous:
        await service.bookmark(await world.viewer(None), post)
    assert anonymous.value.status == 401
