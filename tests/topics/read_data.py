"""Forum content for the read-side tests, written straight through the ORM."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from forum.accounts.models import User
from forum.projects.models import Project
from forum.topics.models import Access, Category, Post, Tag, Topic, TopicKind, TopicState
from forum.topics.writing import slugify

_seq = itertools.count(1)
_clock = itertools.count(1)


def tick() -> datetime:
    """Strictly increasing timestamps, so orderings in tests are deterministic."""
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(_clock))


async def make_category(project: Project, slug: str | None = None, *,
                        read_access: Access = Access.EVERYONE,
                        post_access: Access = Access.EVERYONE, **fields: Any) -> Category:
    slug = slug or f"cat{next(_seq)}"
    return await Category.create(project=project, slug=slug, name=fields.pop("name", slug.title()),
                                 read_access=read_access, post_access=post_access, **fields)


async def make_topic(project: Project, category: Category, author: User, *,
                     title: str | None = None, kind: TopicKind = TopicKind.QUESTION,
                     replies: int = 0, repliers: list[User] | None = None,
                     tags: list[Tag] | None = None, at: datetime | None = None,
                     **fields: Any) -> Topic:
    n = next(_seq)
    when = at or tick()
    title = title or f"Topic number {n}"
    topic = await Topic.create(project=project, category=category, author=author, kind=kind,
                               title=title, slug=slugify(title),
                               last_posted_at=when, reply_count=replies, **fields)
    await Topic.filter(id=topic.id).update(created_at=when)
    topic.created_at = when
    posts = [Post(topic=topic, author=author, number=1, source=f"Body of {title}",
                  cooked=f"<p>Body of {title}</p>", created_at=when)]
    people = repliers or [author]
    for i in range(replies):
        posts.append(Post(topic=topic, author=people[i % len(people)], number=i + 2,
                          source=f"Reply {i + 1} to {title}",
                          cooked=f"<p>Reply {i + 1} to {title}</p>",
                          created_at=when + timedelta(milliseconds=i + 1)))
    await Post.bulk_create(posts)
    if tags:
        await topic.tags.add(*tags)
    return topic


async def posts_of(topic: Topic) -> list[Post]:
    return await Post.filter(topic_id=topic.id).order_by("number")


async def accept(topic: Topic, post: Post) -> None:
    await Topic.filter(id=topic.id).update(accepted_post_id=post.id, state=TopicState.SOLVED)
    topic.accepted_post_id = post.id
    topic.state = TopicState.SOLVED
