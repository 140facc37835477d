"""Editing posts: revisions, the readable diff, the edit window, renaming a topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum import events
from forum.platform import Platform
from forum.projects.models import Project
from forum.topics import service
from forum.topics.models import Post, PostRevision, Topic
from forum.topics.schemas import PostEditIn
from forum.web.errors import UserError
from tests.factories import make_user
from tests.topics.conftest import World, answer, snapshot, start_topic


async def edit(platform: Platform, world: World, post: Post, user: object,
               **fields: object) -> Post:
    viewer = await world.viewer(user)  # type: ignore[arg-type]
    return await service.edit_post(platform, viewer, post, PostEditIn.model_validate(fields))


async def test_edits_keep_every_version_and_a_word_diff(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world, source="The quick brown fox")
    post = await Post.get(topic_id=topic.id, number=1)
    await edit(platform, world, post, world.member, source="The slow brown <fox>",
               reason="typo")
    await post.refresh_from_db()
    assert post.edit_count == 1 and post.edited_at is not None
    assert "&lt;fox&gt;" in post.cooked and "<fox>" not in post.cooked
    revisions = await service.revisions(post)
    assert [(r.number, r.source) for r in revisions] == [
        (1, "The quick brown fox"), (2, "The slow brown <fox>")]
    assert revisions[1].reason == "typo" and revisions[1].editor_id == world.member.id  # type: ignore[attr-defined]
    diff = await service.revision_diff(post, 2)
    assert "<del>quick</del><ins>slow</ins>" in diff
    assert "brown <ins>&lt;</ins>fox<ins>&gt;</ins>" in diff
    assert "<fox>" not in diff
    with pytest.raises(UserError):
        await service.revision_diff(post, 3)
    edited = [e for e in emitted if isinstance(e, events.PostEdited)]
    assert [(e.post_id, e.editor_id) for e in edited] == [(post.id, world.member.id)]


def test_word_diff_escapes_and_marks() -> None:
    assert service.word_diff("a <b> c", "a <b> d & e") == (
        "a &lt;b&gt; <del>c</del><ins>d &amp; e</ins>")
    assert service.word_diff("", "new") == "<ins>new</ins>"


async def test_a_new_title_renames_the_slug_and_keeps_the_old_one_in_history(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world, title="Old title of the topic")
    post = await Post.get(topic_id=topic.id, number=1)
    await edit(platform, world, post, world.member, source=post.source,
               title="Brand new title")
    await topic.refresh_from_db()
    assert (topic.title, topic.slug) == ("Brand new title", "brand-new-title")
    titles = [r.title for r in await service.revisions(post)]
    assert titles == ["Old title of the topic", "Brand new title"]
    assert any(isinstance(e, events.TopicChanged) and e.change == "edited" for e in emitted)
    # The id alone still finds the topic, whatever slug a link carries.
    found, _ = await service.access_topic(await world.viewer(None), world.project, topic.id)
    assert found.slug == "brand-new-title"


async def test_a_title_only_goes_on_the_opening_post(platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    reply = await answer(platform, world, topic, world.outsider)
    before = await snapshot()
    with pytest.raises(UserError) as refused:
        await edit(platform, world, reply, world.outsider, source="New", title="New title")
    assert refused.value.status == 422
    assert await snapshot() == before


async def test_authors_edit_within_the_window_moderators_always(
        platform: Platform, world: World) -> None:
    await Project.filter(id=world.project.id).update(post_edit_window_minutes=30)
    await world.project.refresh_from_db()
    topic = await start_topic(platform, world)
    post = await answer(platform, world, topic, world.outsider, source="Original")
    await Post.filter(id=post.id).update(created_at=datetime.now(UTC) - timedelta(minutes=31))
    await post.refresh_from_db()
    with pytest.raises(UserError) as late:
        await edit(platform, world, post, world.outsider, source="Too late")
    assert late.value.status == 403 and "30 minutes" in late.value.message
    with pytest.raises(UserError) as stranger:
        await edit(platform, world, post, world.member, source="Not mine")
    assert stranger.value.status == 403
    assert (await Post.get(id=post.id)).source == "Original"
    assert await PostRevision.filter(post_id=post.id).count() == 1
    await edit(platform, world, post, world.moderator, source="Moderated")
    assert (await Post.get(id=post.id)).source == "Moderated"


async def test_new_mentions_only_are_reported_on_edit(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    dana = await make_user("dana")
    erin = await make_user("erin")
    topic = await start_topic(platform, world, source="Thanks @dana")
    post = await Post.get(topic_id=topic.id, number=1)
    await edit(platform, world, post, world.member, source="Thanks @dana and @erin")
    edited = next(e for e in emitted if isinstance(e, events.PostEdited))
    assert edited.newly_mentioned_user_ids == (erin.id,)
    assert dana.id not in edited.newly_mentioned_user_ids


async def test_an_unchanged_edit_stores_nothing(platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world)
    post = await Post.get(topic_id=topic.id, number=1)
    await edit(platform, world, post, world.member, source=post.source)
    assert await PostRevision.filter(post_id=post.id).count() == 1
    assert (await Topic.get(id=topic.id)).title == topic.title
