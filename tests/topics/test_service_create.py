"""Starting topics: kinds, categories' permissions, tags, cooking and events."""

from __future__ import annotations

import pytest

from forum import events
from forum.platform import Platform
from forum.topics import service
from forum.topics.models import Post, PostRevision, Tag, Topic, TopicKind
from forum.topics.schemas import TopicIn
from forum.web.errors import UserError
from tests.topics.conftest import World


def topic_in(world: World, **fields: object) -> TopicIn:
    data: dict[str, object] = {"title": "How do I configure the parser?",
                               "source": "I tried **everything**.",
                               "category_id": world.questions.id}
    data.update(fields)
    return TopicIn.model_validate(data)


async def test_create_topic_writes_topic_post_revision_and_emits(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    viewer = await world.viewer(world.member)
    topic = await service.create_topic(platform, viewer, world.project,
                                       topic_in(world, tags=["Parser", "config"]))
    assert topic.kind == TopicKind.QUESTION
    assert topic.slug == "how-do-i-configure-the-parser"
    post = await Post.get(topic_id=topic.id)
    assert post.number == 1 and "<strong>everything</strong>" in post.cooked
    assert await PostRevision.filter(post_id=post.id).count() == 1
    assert await service.topic_tag_names(topic) == ["config", "parser"]
    assert (await Tag.get(project_id=world.project.id, name="parser")).topic_count == 1
    created = [e for e in emitted if isinstance(e, events.TopicCreated)]
    assert created and created[0].topic_id == topic.id and created[0].post_id == post.id


async def test_outsider_cannot_create_tags_but_may_use_existing_ones(
        platform: Platform, world: World) -> None:
    outsider = await world.viewer(world.outsider)
    with pytest.raises(UserError) as refused:
        await service.create_topic(platform, outsider, world.project,
                                   topic_in(world, tags=["brand-new"]))
    assert refused.value.status == 422
    assert not await Topic.exists(project_id=world.project.id)
    await Tag.create(project_id=world.project.id, name="known")
    topic = await service.create_topic(platform, outsider, world.project,
                                       topic_in(world, tags=["known"]))
    assert await service.topic_tag_names(topic) == ["known"]
