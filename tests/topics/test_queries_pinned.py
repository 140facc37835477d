"""The signed-in topic page's SQL, pinned: a new query on this hot path must be a choice."""

from __future__ import annotations

import httpx

from forum.topics.models import Bookmark, Vote
from tests.factories import make_project, make_user
from tests.support import Login
from tests.topics.read_data import make_category, make_topic, posts_of
from tests.topics.test_queries_count import page_queries

# The session's user, the project with the viewer's role, the topic, the page fingerprint, the
# viewer's votes and bookmarks (one UNION ALL), the switcher's projects (the post fragment
# itself is cached per topic version, so a repeat view does not load the posts again).
SIGNED_IN_REPEAT_QUERIES = 6


async def test_signed_in_topic_page_query_count_is_pinned(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner = await make_user()
    reader = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, replies=5, repliers=[owner])
    posts = await posts_of(topic)
    await Vote.create(post=posts[1], user=reader, value=1)
    await Vote.create(post=posts[3], user=reader, value=-1)
    await Bookmark.create(post=posts[2], user=reader)
    await login(reader)
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    await client.get(url)  # the first view writes (view count, read position)
    queries = await page_queries(client, url)
    assert len(queries) == SIGNED_IN_REPEAT_QUERIES, "\n".join(queries)
    assert sum("UNION ALL" in q for q in queries) == 1
    assert not any('FROM "memberships"' in q for q in queries)  # joined into the project


async def test_signed_in_topic_page_shows_votes_and_bookmarks_from_one_query(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    from forum.topics.permissions import Viewer
    from forum.topics.queries import viewer_marks

    owner = await make_user()
    reader = await make_user()
    other = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, replies=4, repliers=[owner])
    elsewhere = await make_topic(project, category, owner, replies=1, repliers=[owner])
    posts = await posts_of(topic)
    await Vote.create(post=posts[1], user=reader, value=1)
    await Vote.create(post=posts[2], user=reader, value=-1)
    await Bookmark.create(post=posts[2], user=reader)
    await Bookmark.create(post=posts[4], user=reader)
    await Vote.create(post=posts[3], user=other, value=1)  # someone else's marks
    await Bookmark.create(post=posts[3], user=other)
    await Bookmark.create(post=(await posts_of(elsewhere))[0], user=reader)  # another topic
    marks = await viewer_marks(Viewer(reader, None, False), topic)
    assert marks.votes == {posts[1].id: 1, posts[2].id: -1}
    assert marks.bookmarks == frozenset({posts[2].id, posts[4].id})
    assert await viewer_marks(Viewer(None, None, False), topic) == marks.__class__({}, frozenset())
