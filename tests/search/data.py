"""Topics and posts made directly with the ORM, indexed through the real job."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from forum.accounts.models import User
from forum.jobs import JobContext
from forum.platform import Platform
from forum.projects.models import Project
from forum.topics.models import Access, Category, Post, Tag, Topic
from forum.topics.search_index import index_topic

_seq = itertools.count(1)


async def make_category(project: Project, slug: str | None = None, **fields: Any) -> Category:
    slug = slug or f"cat{next(_seq)}"
    return await Category.create(project=project, name=fields.pop("name", slug.title()),
                                 slug=slug, **fields)


async def make_topic(project: Project, category: Category, author: User, title: str,
                     body: str, *, tags: tuple[str, ...] = (), **fields: Any) -> Topic:
    now = fields.pop("created_at", datetime.now(UTC))
    topic = await Topic.create(project=project, category=category, author=author, title=title,
                               slug=title.lower().replace(" ", "-")[:80], last_posted_at=now,
                               **fields)
    if fields.get("created_at") is None:
        topic.created_at = now
    await add_post(topic, author, body, created_at=now)
    for name in tags:
        tag, _ = await Tag.get_or_create(project=project, name=name)
        await topic.tags.add(tag)
    return topic


async def add_post(topic: Topic, author: User, body: str, **fields: Any) -> Post:
    number = await Post.filter(topic=topic).count() + 1
    post = await Post.create(topic=topic, author=author, number=number, source=body,
                             cooked=f"<p>{body}</p>", **fields)
    if "created_at" in fields:  # auto_now_add ignores the given value
        await Post.filter(id=post.id).update(created_at=fields["created_at"])
    return post


async def index(platform: Platform, *topics: Topic) -> None:
    for topic in topics:
        await index_topic(JobContext(platform, "test", 1), topic_id=topic.id)


__all__ = ["Access", "add_post", "index", "make_category", "make_topic"]
