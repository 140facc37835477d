"""Keyset pages of the top list and of a profile's answers: every row once, in order."""

from __future__ import annotations

from forum.topics.models import Post
from forum.topics.permissions import Viewer, read_scope
from forum.topics.queries import (
    ListName,
    ProfileTab,
    TopicFilter,
    list_topics,
    profile_posts,
)
from tests.factories import make_project, make_user
from tests.topics.read_data import make_category, make_topic


async def test_top_list_pages_through_ties(db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    made = [await make_topic(project, category, owner, score=i % 3) for i in range(11)]
    scope = await read_scope(Viewer(None, None, False), project.id)
    seen = []
    cursor = None
    while True:
        page = await list_topics(scope, TopicFilter(list=ListName.TOP), cursor, limit=4)
        seen += [(t.score, t.id) for t in page.topics]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(((t.score, t.id) for t in made), reverse=True)


async def test_profile_answers_page_with_new_answers_in_between(db: None) -> None:
    owner = await make_user()
    helper = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, replies=9, repliers=[helper])
    scope = await read_scope(Viewer(None, None, False), project.id)
    first = await profile_posts(scope, helper, ProfileTab.ANSWERS, limit=5)
    await Post.create(topic=topic, author=helper, number=11, source="late", cooked="late")
    assert first.next_cursor is not None
    second = await profile_posts(scope, helper, ProfileTab.ANSWERS, first.next_cursor,
                                 limit=5)
    numbers = [p.number for p in first.posts + second.posts]
    assert numbers == list(range(10, 1, -1)) and second.next_cursor is None
