"""Read positions: forward only, cheap on reload, and moved by the topic page."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from forum.topics.models import Post
from forum.topics.reading import ReadMemo, TopicRead, mark_read, read_positions
from tests.factories import add_member, make_project, make_user
from tests.support import Login
from tests.topics.read_data import make_category, make_topic
from tests.topics.test_queries_count import count_queries


async def position(user_id: int, topic_id: int) -> int | None:
    row = await TopicRead.get_or_none(user_id=user_id, topic_id=topic_id)
    return row.last_read_number if row is not None else None


async def test_mark_read_only_moves_forward(db: None) -> None:
    owner, reader = await make_user(), await make_user()
    project = await make_project(owner=owner)
    topic = await make_topic(project, await make_category(project), owner, replies=8)
    await mark_read(reader.id, topic.id, 5)
    assert await position(reader.id, topic.id) == 5
    await mark_read(reader.id, topic.id, 3)
    assert await position(reader.id, topic.id) == 5
    await mark_read(reader.id, topic.id, 0)
    assert await position(reader.id, topic.id) == 5
    await mark_read(reader.id, topic.id, 9)
    assert await position(reader.id, topic.id) == 9
    assert await TopicRead.filter(user_id=reader.id).count() == 1
    assert await read_positions(reader.id, [topic.id]) == {topic.id: 9}
    assert await read_positions(owner.id, [topic.id]) == {}


async def test_the_memo_saves_the_query_of_a_reload(db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    topic = await make_topic(project, await make_category(project), owner, replies=3)
    memo = ReadMemo()
    with count_queries() as first:
        await mark_read(owner.id, topic.id, 4, memo=memo)
    with count_queries() as again:
        await mark_read(owner.id, topic.id, 4, memo=memo)
        await mark_read(owner.id, topic.id, 2, memo=memo)
    assert len(first.queries) == 1
    assert again.queries == []
    # Another process moved the position on: this one's memo never moves it back.
    await TopicRead.filter(user_id=owner.id, topic_id=topic.id).update(last_read_number=7)
    await mark_read(owner.id, topic.id, 5, memo=memo)
    assert await position(owner.id, topic.id) == 7


def test_the_memo_is_bounded_and_keeps_the_highest() -> None:
    memo = ReadMemo(max_entries=2)
    memo.put(1, 1, 5)
    memo.put(1, 1, 3)
    assert memo.get(1, 1) == 5
    memo.put(1, 2, 1)
    memo.put(1, 3, 1)
    assert len(memo.positions) == 2
    assert memo.get(1, 1) == 0  # forgotten: the database decides again


async def test_the_topic_page_marks_what_it_shows_as_read(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner, reader, other = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=owner)
    await add_member(project, reader)
    topic = await make_topic(project, await make_category(project), owner, replies=3)
    url = f"/p/{project.slug}/t/{topic.id}-{topic.slug}"
    await login(None)
    assert (await client.get(url)).status_code == 200
    assert await TopicRead.all().count() == 0  # visitors have no position
    held = await Post.create(topic=topic, author=other, number=5, source="held",
                             cooked="<p>held</p>", hidden_at=datetime.now(UTC), held=True)
    await login(reader)
    assert (await client.get(url)).status_code == 200
    assert await position(reader.id, topic.id) == 4  # the held reply is not shown to him
    await Post.filter(id=held.id).update(hidden_at=None, held=False)
    assert (await client.get(url)).status_code == 200
    assert await position(reader.id, topic.id) == 5
    assert await position(owner.id, topic.id) is None
