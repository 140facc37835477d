"""A topic page costs the same number of SQL queries with 5 posts as with 100."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from forum.topics.models import Bookmark, Post, Vote
from tests.factories import make_project, make_user
from tests.support import Login
from tests.topics.read_data import make_category, make_topic, posts_of

STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        text = str(args[0]) if args else record.getMessage()
        if text.lstrip().upper().startswith(STATEMENTS):
            self.queries.append(text)


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


async def page_queries(client: httpx.AsyncClient, url: str) -> list[str]:
    with count_queries() as counter:
        response = await client.get(url)
    assert response.status_code == 200
    return counter.queries


async def test_topic_page_queries_do_not_grow_with_posts(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner = await make_user()
    reader = await make_user()
    helpers = [await make_user() for _ in range(5)]
    project = await make_project(owner=owner)
    category = await make_category(project)
    small = await make_topic(project, category, owner, replies=4, repliers=helpers)
    large = await make_topic(project, category, owner, replies=99, repliers=helpers)
    for topic in (small, large):
        posts = await posts_of(topic)
        await Vote.create(post=posts[1], user=reader, value=1)
        await Bookmark.create(post=posts[2], user=reader)
    assert await Post.filter(topic_id=large.id).count() == 100
    for who in (reader, None):
        await login(who)
        await client.get(f"/p/{project.slug}")  # warm up: nothing lazily loaded later
        counts = []
        for topic in (small, large):
            url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
            first = await page_queries(client, url)  # counts the view: a few writes
            again = await page_queries(client, url)
            counts.append((len(first), len(again)))
        assert counts[0] == counts[1], (who, counts)
        assert 3 <= counts[0][1] <= 15, counts  # the counter sees the queries
