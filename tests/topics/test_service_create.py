"""Starting topics: kinds, categories' permissions, tags, validation, cooking and events."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from forum import events
from forum.gates import Act
from forum.platform import Platform
from forum.topics import service
from forum.topics.models import Access, Category, Post, PostRevision, Tag, Topic, TopicKind
from forum.topics.permissions import Viewer
from forum.topics.schemas import BODY_MAX, TopicIn
from forum.web.errors import UserError
from tests.factories import make_user
from tests.topics.conftest import World, snapshot, start_topic, topic_data
from tests.topics.gatekeeper import Gatekeeper


async def test_create_topic_writes_topic_post_revision_and_emits(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    topic = await start_topic(platform, world, tags=["Parser", "config", "parser"])
    assert topic.kind == TopicKind.QUESTION and not topic.is_private
    assert topic.slug == "how-do-i-configure-the-parser"
    assert topic.last_poster_id == world.member.id  # type: ignore[attr-defined]
    post = await Post.get(topic_id=topic.id)
    assert post.number == 1 and "<strong>everything</strong>" in post.cooked
    revisions = await PostRevision.filter(post_id=post.id)
    assert [(r.number, r.title) for r in revisions] == [(1, topic.title)]
    assert await service.topic_tag_names(topic) == ["config", "parser"]
    assert (await Tag.get(project_id=world.project.id, name="parser")).topic_count == 1
    assert (await Category.get(id=world.questions.id)).topic_count == 1
    created = [e for e in emitted if isinstance(e, events.TopicCreated)]
    assert len(created) == 1
    assert (created[0].topic_id, created[0].post_id, created[0].author_id) == (
        topic.id, post.id, world.member.id)
    assert created[0].kind == "question" and created[0].project_id == world.project.id


async def test_kind_defaults_to_the_category_and_can_be_chosen(
        platform: Platform, world: World) -> None:
    idea = await start_topic(platform, world, category=world.categories["ideas"])
    assert idea.kind == TopicKind.DISCUSSION
    bug = await start_topic(platform, world, category=world.categories["bug-reports"],
                            source="It crashes.")
    assert bug.kind == TopicKind.BUG_REPORT
    chosen = await start_topic(platform, world, kind="discussion", source="Let us talk.")
    assert chosen.kind == TopicKind.DISCUSSION


async def test_announcements_come_from_the_team_only(platform: Platform, world: World) -> None:
    before = await snapshot()
    for user in (world.member, world.outsider):
        with pytest.raises(UserError) as refused:
            await start_topic(platform, world, user, world.categories["announcements"])
        assert refused.value.status == 403
        # Nor may they choose the announcement kind in an open category.
        with pytest.raises(UserError) as refused:
            await start_topic(platform, world, user, kind="announcement")
        assert refused.value.status == 403
    assert await snapshot() == before
    topic = await start_topic(platform, world, world.supporter,
                              world.categories["announcements"])
    assert topic.kind == TopicKind.ANNOUNCEMENT


async def test_security_reports_are_forced_private(platform: Platform, world: World) -> None:
    topic = await start_topic(platform, world, world.outsider, world.categories["security"],
                              kind="question")
    assert topic.is_private and topic.kind == TopicKind.SECURITY_REPORT
    # Readable by the author and the team, by nobody else.
    for user, readable in ((world.outsider, True), (world.supporter, True),
                           (world.member, False), (None, False)):
        viewer = await world.viewer(user)
        if readable:
            found, _ = await service.access_topic(viewer, world.project, topic.id)
            assert found.id == topic.id
        else:
            with pytest.raises(UserError) as refused:
                await service.access_topic(viewer, world.project, topic.id)
            assert refused.value.status == 404


async def test_category_posting_permissions(platform: Platform, world: World) -> None:
    members_only = await Category.create(project_id=world.project.id, name="Members",
                                         slug="members", post_access=Access.MEMBERS)
    team_only = await Category.create(project_id=world.project.id, name="Team", slug="team",
                                      read_access=Access.TEAM, post_access=Access.TEAM)
    before = await snapshot()
    cases = [(world.outsider, members_only, 403), (world.member, team_only, 403),
             (None, world.questions, 401)]
    for user, category, status in cases:
        with pytest.raises(UserError) as refused:
            viewer = await world.viewer(user)
            await service.create_topic(platform, viewer, world.project, topic_data(category))
        assert refused.value.status == status, (user, category.slug)
    assert await snapshot() == before
    assert await start_topic(platform, world, world.member, members_only)
    assert await start_topic(platform, world, world.moderator, team_only)


async def test_a_category_of_another_project_is_refused(platform: Platform, world: World
                                                        ) -> None:
    from tests.topics.conftest import make_world

    other = await make_world()
    before = await snapshot()
    with pytest.raises(UserError) as refused:
        await start_topic(platform, world, category=other.questions)
    assert refused.value.status == 422
    assert await snapshot() == before


async def test_a_user_refused_tag_creation_may_still_use_existing_tags(
        platform: Platform, world: World, gatekeeper: Gatekeeper) -> None:
    gatekeeper.refuse[Act.CREATE_TAG] = "Creating tags needs 150 reputation."
    before = await snapshot()
    with pytest.raises(UserError) as refused:
        await start_topic(platform, world, world.outsider, tags=["brand-new"])
    assert refused.value.status == 403
    assert "150 reputation" in refused.value.message
    assert await snapshot() == before
    await Tag.create(project_id=world.project.id, name="known")
    topic = await start_topic(platform, world, world.outsider, tags=["known"])
    assert await service.topic_tag_names(topic) == ["known"]


@pytest.mark.parametrize("fields", [
    {"title": ""}, {"title": "   "}, {"title": "?!?!?!?!"}, {"title": "abc"},
    {"title": "x" * 201}, {"source": ""}, {"source": "  \n "}, {"source": "...!!! ???"},
    {"source": "a" * (BODY_MAX + 1)}, {"tags": ["a", "b", "c", "d", "e", "f"]},
    {"tags": ["no spaces"]}, {"tags": ["-leading"]}, {"kind": "poem"},
])
async def test_bad_titles_bodies_and_tags_are_refused(fields: dict[str, object]) -> None:
    data: dict[str, object] = {"title": "A fine title", "source": "A fine body.",
                               "category_id": 1, **fields}
    with pytest.raises(ValidationError):
        TopicIn.model_validate(data)


def test_titles_and_tags_are_normalised() -> None:
    data = TopicIn.model_validate({"title": "  Spaces   inside  ", "source": "Body\r\n",
                                   "category_id": 1, "tags": ["Py", "py", " ", "C++"]})
    assert data.title == "Spaces inside" and data.source == "Body"
    assert data.tags == ["py", "c++"]


async def test_mentions_resolve_to_users_of_the_platform(
        platform: Platform, world: World, emitted: list[events.Event]) -> None:
    carol = await make_user("carol")  # not a member: any user of the platform
    topic = await start_topic(platform, world, source="Ping @carol and @nobody-here.")
    post = await Post.get(topic_id=topic.id)
    created = next(e for e in emitted if isinstance(e, events.TopicCreated))
    assert created.mentioned_user_ids == (carol.id,)
    assert "/u/carol" in post.cooked


async def test_topic_references_link_only_topics_the_author_can_read(
        platform: Platform, world: World) -> None:
    public = await start_topic(platform, world, title="A public question here")
    private = await start_topic(platform, world, world.outsider, world.categories["security"])
    topic = await start_topic(platform, world, world.member,
                              source=f"See #{public.id} and #{private.id}.")
    cooked = (await Post.get(topic_id=topic.id)).cooked
    assert f"/t/{public.id}-" in cooked
    assert f"/t/{private.id}-" not in cooked


async def test_default_categories_come_with_a_new_project(platform: Platform, db: None) -> None:
    from forum.projects.schemas import ProjectIn
    from forum.projects.service import do_create_project

    owner = await make_user()
    project = await do_create_project(platform, owner, ProjectIn(
        slug="fresh", name="Fresh", contact_email="a@example.org"))
    categories = await service.project_categories(project.id)
    assert [c.slug for c in categories] == ["questions", "announcements", "ideas",
                                            "bug-reports", "security"]
    by_slug = {c.slug: c for c in categories}
    assert by_slug["announcements"].post_access == Access.TEAM
    assert by_slug["security"].private_topics
    assert by_slug["security"].default_kind == TopicKind.SECURITY_REPORT
    # Idempotent, and lazily fills projects made before (none here are missing).
    again = await service.ensure_default_categories(project)
    assert [c.id for c in again] == [c.id for c in categories]


async def test_existing_projects_get_defaults_lazily_when_someone_posts(
        platform: Platform, db: None) -> None:
    from tests.factories import make_project

    user = await make_user()
    project = await make_project(owner=user)  # written straight, no ProjectCreated
    assert not await Category.exists(project_id=project.id)
    viewer = Viewer(user, None, False)
    with pytest.raises(UserError):  # no such category, but the defaults now exist
        await service.create_topic(platform, viewer, project, TopicIn(
            title="Hello there", source="Body", category_id=999_999))
    assert await Category.filter(project_id=project.id).count() == 5
    assert not await Topic.exists(project_id=project.id)


async def test_access_topic_refuses_another_projects_topic(platform: Platform, world: World
                                                           ) -> None:
    from tests.topics.conftest import make_world

    other = await make_world()
    foreign = await start_topic(platform, other, other.member)
    with pytest.raises(UserError) as refused:
        await service.access_topic(await world.viewer(world.owner), world.project, foreign.id)
    assert refused.value.status == 404
    for bad_id in (0, -1, 10**12):
        with pytest.raises(UserError):
            await service.access_topic(await world.viewer(world.owner), world.project, bad_id)
    found, category = await service.access_topic(await other.viewer(None), other.project,
                                                 foreign.id)
    assert found.id == foreign.id and category.id == other.questions.id
