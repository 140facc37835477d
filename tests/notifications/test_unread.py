"""Unread counts for tracked and watched topics (Discourse's meaning of the levels): the
hook behind them, the badges in topic lists, the Unread page and its API."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from forum.accounts.models import User
from forum.hookspecs import UnreadPosts
from forum.notifications.models import CategoryWatch, TopicWatch, WatchLevel
from forum.notifications.unread import unread_topics
from forum.topics.models import Access, Category, Post, Tag, Topic
from forum.topics.permissions import Viewer, read_scope
from forum.topics.reading import mark_read
from tests.notifications.conftest import Forum
from tests.support import Login
from tests.topics.test_queries_count import count_queries

BADGE = re.compile(r'<a class="badge unread" href="([^"]+)"[^>]*>(\d+) new</a>')


async def unread_of(forum: Forum, user: User, *topics: Topic) -> dict[int, UnreadPosts]:
    return await forum.platform.unread(user.id, [t.id for t in topics])


async def conversation(forum: Forum, run_jobs: Any) -> Topic:
    """Alice asks, Bob answers (so both track the topic), then Carol adds two posts."""
    topic, _ = await forum.topic(forum.alice)
    await forum.reply(topic, forum.bob)
    await run_jobs()
    await forum.reply(topic, forum.carol)
    await forum.reply(topic, forum.carol)
    return topic


# The hook


async def test_replying_tracks_and_new_posts_by_others_are_unread(
        forum: Forum, run_jobs: Any) -> None:
    topic = await conversation(forum, run_jobs)
    levels = dict(await TopicWatch.filter(topic_id=topic.id).values_list("user_id", "level"))
    assert levels == {forum.alice.id: WatchLevel.TRACKING, forum.bob.id: WatchLevel.TRACKING}
    # Never opened: every post by someone else is unread; their own posts never are.
    assert await unread_of(forum, forum.bob, topic) == {topic.id: UnreadPosts(3, 1)}
    assert await unread_of(forum, forum.alice, topic) == {topic.id: UnreadPosts(3, 2)}
    await mark_read(forum.bob.id, topic.id, 2)
    assert await unread_of(forum, forum.bob, topic) == {topic.id: UnreadPosts(2, 3)}
    await mark_read(forum.bob.id, topic.id, 4)
    assert await unread_of(forum, forum.bob, topic) == {}
    await forum.reply(topic, forum.carol)
    assert await unread_of(forum, forum.bob, topic) == {topic.id: UnreadPosts(1, 5)}
    await forum.reply(topic, forum.bob)  # his own reply adds nothing to read
    assert await unread_of(forum, forum.bob, topic) == {topic.id: UnreadPosts(1, 5)}


async def test_explicit_tracking_and_watching_count_normal_and_muted_do_not(
        forum: Forum) -> None:
    topic, _ = await forum.topic(forum.alice, emit=False)
    await forum.reply(topic, forum.bob)
    assert await unread_of(forum, forum.carol, topic) == {}  # normal: no row at all
    for level, expected in [(WatchLevel.TRACKING, {topic.id: UnreadPosts(2, 1)}),
                            (WatchLevel.WATCHING, {topic.id: UnreadPosts(2, 1)}),
                            (WatchLevel.NORMAL, {}), (WatchLevel.MUTED, {})]:
        await forum.watch(forum.carol, topic, level)
        assert await unread_of(forum, forum.carol, topic) == expected, level


async def test_category_watch_counts_unless_the_topic_says_otherwise(forum: Forum) -> None:
    child = await Category.create(project=forum.project, name="Widgets", slug="widgets",
                                  parent=forum.questions)
    topic, _ = await forum.topic(forum.alice, emit=False)
    nested, _ = await forum.topic(forum.alice, category=child, emit=False)
    for level, counted in [(WatchLevel.TRACKING, True), (WatchLevel.WATCHING, True),
                           (WatchLevel.MUTED, False)]:
        await CategoryWatch.update_or_create(defaults={"level": level},
                                             user_id=forum.carol.id,
                                             category_id=forum.questions.id)
        found = await unread_of(forum, forum.carol, topic, nested)
        # The sub-category inherits its parent's level.
        assert found == ({topic.id: UnreadPosts(1, 1), nested.id: UnreadPosts(1, 1)}
                         if counted else {}), level
    await CategoryWatch.filter(user_id=forum.carol.id).update(level=WatchLevel.TRACKING)
    await CategoryWatch.create(user_id=forum.carol.id, category_id=child.id,
                               level=WatchLevel.MUTED)  # the child's own level wins
    await forum.watch(forum.carol, topic, WatchLevel.NORMAL)  # and the topic's own level
    assert await unread_of(forum, forum.carol, topic, nested) == {}


async def test_deleted_and_hidden_posts_are_not_unread(forum: Forum) -> None:
    topic, _ = await forum.topic(forum.alice, emit=False)
    await forum.watch(forum.carol, topic, WatchLevel.TRACKING)
    await mark_read(forum.carol.id, topic.id, 1)
    gone = await forum.reply(topic, forum.bob)
    held = await forum.reply(topic, forum.bob)
    now = datetime.now(UTC)
    await Post.filter(id=gone.id).update(deleted_at=now)
    await Post.filter(id=held.id).update(hidden_at=now, held=True)
    assert await unread_of(forum, forum.carol, topic) == {}
    await Post.filter(id=held.id).update(hidden_at=None, held=False)  # approved
    assert await unread_of(forum, forum.carol, topic) == {topic.id: UnreadPosts(1, 3)}


async def test_read_positions_are_per_user(forum: Forum) -> None:
    topic, _ = await forum.topic(forum.alice, emit=False)
    await forum.reply(topic, forum.alice)
    for user in (forum.bob, forum.carol):
        await forum.watch(user, topic, WatchLevel.TRACKING)
    await mark_read(forum.bob.id, topic.id, 2)
    assert await unread_of(forum, forum.bob, topic) == {}
    assert await unread_of(forum, forum.carol, topic) == {topic.id: UnreadPosts(2, 1)}


async def test_the_unread_list_pages_and_skips_what_is_read(forum: Forum) -> None:
    topics = []
    for _ in range(5):
        topic, _ = await forum.topic(forum.alice, emit=False)
        await forum.watch(forum.bob, topic, WatchLevel.TRACKING)
        topics.append(topic)
    await Topic.filter(id=topics[0].id).update(last_posted_at=datetime(2020, 1, 1, tzinfo=UTC))
    await mark_read(forum.bob.id, topics[2].id, 1)
    scope = await read_scope(Viewer(forum.bob, None, False), forum.project.id)
    first = await unread_topics(forum.bob.id, scope, limit=2)
    second = await unread_topics(forum.bob.id, scope, first.next_cursor, limit=2)
    assert second.next_cursor is None
    listed = [t.id for t in first.topics + second.topics]
    assert listed == [topics[4].id, topics[3].id, topics[1].id, topics[0].id]
    assert second.unread == {topics[1].id: UnreadPosts(1, 1), topics[0].id: UnreadPosts(1, 1)}


# Lists, the Unread page and the API


async def badges(client: httpx.AsyncClient, url: str) -> list[tuple[str, str]]:
    response = await client.get(url)
    assert response.status_code == 200, url
    return BADGE.findall(response.text)


async def test_lists_show_new_posts_until_the_topic_is_read(
        client: httpx.AsyncClient, web_forum: Forum, login: Login, run_jobs: Any) -> None:
    forum = web_forum
    topic = await conversation(forum, run_jobs)
    tag = await Tag.create(project=forum.project, name="widget")
    await topic.tags.add(tag)
    page = f"/p/acme/t/{topic.id}-{topic.slug}"
    lists = ["/p/acme", "/p/acme/latest", "/p/acme/c/questions", "/p/acme/tag/widget"]
    await login(None)
    for url in lists:
        assert await badges(client, url) == [], url
    await login(forum.carol)  # wrote the last posts, tracks nothing
    assert await badges(client, "/p/acme/latest") == []
    await login(forum.bob)
    for url in lists:
        assert await badges(client, url) == [(f"{page}#post-1", "3")], url
    assert (await client.get(page)).status_code == 200
    assert await badges(client, "/p/acme/latest") == []
    await forum.reply(topic, forum.carol)
    assert await badges(client, "/p/acme/latest") == [(f"{page}#post-5", "1")]
    await login(forum.alice)  # Bob's reading is his alone
    assert await badges(client, "/p/acme/latest") == [(f"{page}#post-2", "4")]


async def test_unread_page_and_api(client: httpx.AsyncClient, web_forum: Forum,
                                   login: Login, run_jobs: Any) -> None:
    forum = web_forum
    topic = await conversation(forum, run_jobs)
    quiet, _ = await forum.topic(forum.alice)  # Bob does not track it
    await run_jobs()
    await login(None)
    response = await client.get("/p/acme/unread")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert (await client.get("/api/v1/projects/acme/unread")).status_code == 401
    await login(forum.bob)
    response = await client.get("/p/acme/unread")
    assert response.status_code == 200
    assert "Configuring the widget" in response.text
    assert BADGE.findall(response.text) == [(f"/p/acme/t/{topic.id}-{topic.slug}#post-1", "3")]
    assert f'data-topic-id="{quiet.id}"' not in response.text
    body = (await client.get("/api/v1/projects/acme/unread")).json()
    assert body["next_cursor"] is None
    assert [(t["id"], t["unread"], t["first_unread_number"], t["category"])
            for t in body["topics"]] == [(topic.id, 3, 1, "questions")]
    assert body["topics"][0]["first_unread_url"] == (
        f"/p/acme/t/{topic.id}-{topic.slug}#post-1")
    await client.get(f"/p/acme/t/{topic.id}-{topic.slug}")
    assert (await client.get("/api/v1/projects/acme/unread")).json()["topics"] == []
    assert (await client.get("/api/v1/projects/nope/unread")).status_code == 404
    bad = await client.get("/api/v1/projects/acme/unread?cursor=%%%")
    assert bad.status_code == 422


async def test_topics_no_longer_readable_are_not_listed(
        client: httpx.AsyncClient, web_forum: Forum, login: Login, run_jobs: Any) -> None:
    forum = web_forum
    topic = await conversation(forum, run_jobs)
    secret, _ = await forum.topic(forum.owner, category=forum.security, private=True,
                                  emit=False)
    await forum.watch(forum.bob, secret, WatchLevel.WATCHING)  # a stale watch
    await CategoryWatch.create(user_id=forum.carol.id, category_id=forum.security.id,
                               level=WatchLevel.WATCHING)
    await login(forum.bob)
    listed = (await client.get("/api/v1/projects/acme/unread")).json()["topics"]
    assert [t["id"] for t in listed] == [topic.id]
    await Category.filter(id=forum.questions.id).update(read_access=Access.TEAM)
    assert (await client.get("/api/v1/projects/acme/unread")).json()["topics"] == []
    assert "Configuring the widget" not in (await client.get("/p/acme/unread")).text
    await login(forum.carol)  # watches the category, may not read others' reports
    assert (await client.get("/api/v1/projects/acme/unread")).json()["topics"] == []
    await login(forum.owner)  # the team reads the report (untracked: not listed)
    assert (await client.get("/api/v1/projects/acme/unread")).json()["topics"] == []


async def test_latest_costs_the_same_queries_with_5_or_30_tracked_topics(
        client: httpx.AsyncClient, web_forum: Forum, login: Login) -> None:
    forum = web_forum
    await CategoryWatch.create(user_id=forum.bob.id, category_id=forum.questions.id,
                               level=WatchLevel.TRACKING)
    await login(forum.bob)
    await client.get("/p/acme/latest")  # warm up
    counts = []
    for total in (5, 30):
        while await Topic.filter(project_id=forum.project.id).count() < total:
            topic, _ = await forum.topic(forum.alice, emit=False)
            await forum.reply(topic, forum.carol)
            await forum.watch(forum.bob, topic, WatchLevel.WATCHING)
        with count_queries() as counter:
            response = await client.get("/p/acme/latest")
        assert len(BADGE.findall(response.text)) == total
        counts.append(len(counter.queries))
    assert counts[0] == counts[1], counts
