"""Indexing glue: documents from topics and posts, jobs queued by events, reindex, filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from forum import events
from forum.platform import Platform
from forum.projects.models import Role
from forum.search import SearchQuery
from forum.topics.models import Post, Topic, TopicState
from forum.topics.permissions import Viewer
from forum.topics.search_index import (
    SearchFilters,
    documents_for_topics,
    plain_text,
    reindex,
    search_topics,
    similar_topics,
)
from tests.factories import add_member, make_project, make_user
from tests.search.data import add_post, index, make_category, make_topic


def anonymous() -> Viewer:
    return Viewer(None, None, False)


async def found(platform: Platform, viewer: Viewer, project: object, text: str,
                **filters: object) -> list[int]:
    result = await search_topics(platform, viewer, project, text,  # type: ignore[arg-type]
                                 SearchFilters(**filters))  # type: ignore[arg-type]
    return [hit.post_id for hit in result.hits]


def test_plain_text_strips_tags_and_entities() -> None:
    cooked = ('<p>Use <code>a &lt; b</code> and <a href="/x">the&nbsp;docs</a></p>\n'
              "<ul><li>x</li></ul>")
    assert plain_text(cooked) == "Use a < b and the docs x"


async def test_documents_carry_topic_fields_tags_and_deletion(platform: Platform, db: None
                                                              ) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, "Title here", "first **post**",
                             tags=("python", "async"), is_private=True)
    reply_author = await make_user()
    reply = await add_post(topic, reply_author, "a reply", deleted_at=datetime.now(UTC))
    first, second = await documents_for_topics([topic.id, 999_999])
    assert (first.number, first.title, first.body, first.tags) == (
        1, "Title here", "first **post**", ("async", "python"))
    assert first.is_private and first.topic_author_id == owner.id and not first.deleted
    assert (second.post_id, second.author_id, second.deleted) == (reply.id, reply_author.id, True)
    assert second.category_id == category.id and second.project_id == project.id


async def test_events_queue_indexing_jobs_that_follow_edits_and_deletes(
        platform: Platform, db: None, run_jobs: object) -> None:
    await platform.search.setup()
    owner = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, "Compiler crash", "segfault in parser")
    post = await Post.get(topic=topic, number=1)
    await platform.emit(events.TopicCreated(project.id, topic.id, post.id, owner.id,
                                            category.id, "question"))
    assert await found(platform, anonymous(), project, "segfault") == []  # not inline
    await run_jobs()  # type: ignore[operator]
    assert await found(platform, anonymous(), project, "segfault") == [post.id]

    await Post.filter(id=post.id).update(source="stack overflow", cooked="<p>stack overflow</p>")
    await platform.emit(events.PostEdited(project.id, topic.id, post.id, owner.id))
    await run_jobs()  # type: ignore[operator]
    assert await found(platform, anonymous(), project, "segfault") == []
    assert await found(platform, anonymous(), project, "overflow") == [post.id]

    reply = await add_post(topic, owner, "another overflow here")
    await platform.emit(events.PostCreated(project.id, topic.id, reply.id, owner.id, 2, None))
    await run_jobs()  # type: ignore[operator]
    assert sorted(await found(platform, anonymous(), project, "overflow")) == [post.id, reply.id]

    await Post.filter(id=reply.id).update(deleted_at=datetime.now(UTC))
    await platform.emit(events.PostDeleted(project.id, topic.id, reply.id, owner.id, owner.id))
    await Topic.filter(id=topic.id).update(state=TopicState.SOLVED)
    await platform.emit(events.AnswerAccepted(project.id, topic.id, post.id, owner.id, owner.id,
                                              None, None))
    await run_jobs()  # type: ignore[operator]
    assert await found(platform, anonymous(), project, "overflow") == [post.id]
    assert await found(platform, anonymous(), project, "overflow", state="solved") == [post.id]
    moderator = Viewer(owner, Role.OWNER, False)
    assert sorted(await found(platform, moderator, project, "overflow")) == [post.id, reply.id]

    await Topic.filter(id=topic.id).update(title="Renamed entirely")
    await platform.emit(events.TopicChanged(project.id, topic.id, owner.id, "edited"))
    await run_jobs()  # type: ignore[operator]
    assert await found(platform, anonymous(), project, "renamed") == [post.id]
    assert await found(platform, anonymous(), project, "compiler") == []


async def test_reindex_rebuilds_one_project_or_all(platform: Platform, db: None) -> None:
    await platform.search.setup()
    owner = await make_user()
    first, second = await make_project(owner=owner), await make_project(owner=owner)
    topic_a = await make_topic(first, await make_category(first), owner, "Alpha", "word")
    topic_b = await make_topic(second, await make_category(second), owner, "Beta", "word")
    done = [n async for n in reindex(platform, first.id)]
    assert sum(done) == 1
    team = Viewer(owner, Role.OWNER, False)
    assert len(await found(platform, team, first, "word")) == 1
    assert await found(platform, team, second, "word") == []
    assert sum([n async for n in reindex(platform)]) == 2
    assert len(await found(platform, team, second, "word")) == 1
    del topic_a, topic_b


async def test_search_filters_by_names_and_dates(platform: Platform, db: None) -> None:
    await platform.search.setup()
    owner = await make_user("Alice")
    bob = await make_user("bob")
    project = await make_project(owner=owner)
    await add_member(project, bob)
    docs, bugs = await make_category(project, "docs"), await make_category(project, "bugs")
    old = datetime(2024, 1, 10, tzinfo=UTC)
    t1 = await make_topic(project, docs, owner, "Kettle one", "kettle", tags=("python",),
                          created_at=old)
    t2 = await make_topic(project, bugs, bob, "Kettle two", "kettle", kind="bug_report",
                          created_at=old + timedelta(days=30))
    await index(platform, t1, t2)
    p1 = (await Post.get(topic=t1)).id
    p2 = (await Post.get(topic=t2)).id
    v = anonymous()
    assert sorted(await found(platform, v, project, "kettle")) == [p1, p2]
    assert await found(platform, v, project, "kettle", category="docs") == [p1]
    assert await found(platform, v, project, "kettle", category="nope") == []
    assert await found(platform, v, project, "kettle", tag="python") == [p1]
    assert await found(platform, v, project, "kettle", kind="bug_report") == [p2]
    assert await found(platform, v, project, "kettle", author="BOB") == [p2]
    assert await found(platform, v, project, "kettle", author="nobody") == []
    assert await found(platform, v, project, "kettle", after=date(2024, 2, 1)) == [p2]
    assert await found(platform, v, project, "kettle", before=date(2024, 1, 10)) == [p1]


async def test_similar_topics_are_readable_opening_posts(platform: Platform, db: None) -> None:
    await platform.search.setup()
    owner = await make_user()
    stranger = await make_user()
    project = await make_project(owner=owner)
    public = await make_category(project)
    team_only = await make_category(project, read_access="team")
    t1 = await make_topic(project, public, owner, "Installing on Windows fails", "x")
    t2 = await make_topic(project, team_only, owner, "Windows installer secret", "x")
    t3 = await make_topic(project, public, owner, "Deleted windows topic", "x",
                          deleted_at=datetime.now(UTC))
    await index(platform, t1, t2, t3)
    viewer = Viewer(stranger, None, False)
    similar = await similar_topics(platform, viewer, project, "How do I install on windows?")
    assert [s.topic_id for s in similar] == [t1.id]
    assert similar[0].slug == t1.slug
    assert await similar_topics(platform, viewer, project, "how to the") == []
    team = Viewer(owner, Role.OWNER, False)
    assert {s.topic_id for s in await similar_topics(platform, team, project, "windows")} == {
        t1.id, t2.id}


async def test_query_object_gets_the_viewers_read_scope(platform: Platform, db: None) -> None:
    seen: list[SearchQuery] = []

    class Recorder:
        async def search(self, query: SearchQuery) -> object:
            seen.append(query)
            from forum.search import SearchResult

            return SearchResult()

    owner = await make_user()
    member = await make_user()
    project = await make_project(owner=owner)
    await add_member(project, member)
    public = await make_category(project)
    members = await make_category(project, read_access="members")
    await make_category(project, read_access="team")
    platform.search = Recorder()  # type: ignore[assignment]
    await search_topics(platform, Viewer(member, Role.MEMBER, False), project, "x",
                        SearchFilters(page=3))
    [query] = seen
    assert query.allowed_category_ids == frozenset({public.id, members.id})
    assert (query.see_private, query.see_deleted, query.user_id) == (False, False, member.id)
    assert (query.limit, query.offset) == (20, 40)
