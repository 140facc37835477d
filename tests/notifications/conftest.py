"""A small forum to notify people about: a project, categories, users, topics and posts,
written with the ORM; activity is announced by emitting the real events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from forum import events
from forum.accounts.models import User
from forum.notifications.models import Notification, TopicWatch, WatchLevel
from forum.platform import Platform
from forum.projects.models import Project, Role
from forum.topics.models import Access, Category, Post, Topic, TopicKind
from tests.factories import add_member, make_project, make_user


@dataclass
class Forum:
    platform: Platform
    project: Project
    questions: Category
    security: Category
    owner: User  # team
    alice: User
    bob: User
    carol: User

    async def topic(self, author: User, *, category: Category | None = None,
                    source: str = "How do I configure the widget?", private: bool = False,
                    mentions: tuple[User, ...] = (), quotes: tuple[Post, ...] = (),
                    emit: bool = True) -> tuple[Topic, Post]:
        category = category or self.questions
        topic = await Topic.create(
            project=self.project, category=category, author=author,
            kind=TopicKind.SECURITY_REPORT if private else TopicKind.QUESTION,
            title="Configuring the widget", slug="configuring-the-widget",
            is_private=private, last_posted_at=datetime.now(UTC))
        post = await Post.create(topic=topic, author=author, number=1, source=source,
                                 cooked=f"<p>{source}</p>")
        if emit:
            await self.platform.emit(events.TopicCreated(
                project=self.project.id, topic_id=topic.id, post_id=post.id,
                author_id=author.id, category_id=category.id, kind=topic.kind,
                mentioned_user_ids=tuple(u.id for u in mentions),
                quoted_post_ids=tuple(p.id for p in quotes)))
        return topic, post

    async def reply(self, topic: Topic, author: User, *, reply_to: Post | None = None,
                    mentions: tuple[User, ...] = (), quotes: tuple[Post, ...] = (),
                    source: str = "Set the flag in the config file.") -> Post:
        number = await Post.filter(topic_id=topic.id).count() + 1
        post = await Post.create(topic=topic, author=author, number=number, source=source,
                                 cooked=f"<p>{source}</p>", reply_to=reply_to)
        await self.platform.emit(events.PostCreated(
            project=self.project.id, topic_id=topic.id, post_id=post.id,
            author_id=author.id, number=number,
            reply_to_post_id=reply_to.id if reply_to is not None else None,
            mentioned_user_ids=tuple(u.id for u in mentions),
            quoted_post_ids=tuple(p.id for p in quotes)))
        return post

    async def vote(self, post: Post, voter: User, old: int = 0, new: int = 1) -> None:
        await self.platform.emit(events.VoteCast(
            project=self.project.id, topic_id=post.topic_id,  # type: ignore[attr-defined]
            post_id=post.id, post_author_id=post.author_id,  # type: ignore[attr-defined]
            voter_id=voter.id, old_value=old, new_value=new, is_question=post.number == 1))

    async def accept(self, topic: Topic, post: Post, accepter: User) -> None:
        await self.platform.emit(events.AnswerAccepted(
            project=self.project.id, topic_id=topic.id, post_id=post.id,
            answer_author_id=post.author_id,  # type: ignore[attr-defined]
            accepter_id=accepter.id, previous_post_id=None, previous_answer_author_id=None))

    async def watch(self, user: User, topic: Topic, level: WatchLevel) -> None:
        await TopicWatch.update_or_create(defaults={"level": level, "explicit": True},
                                          user_id=user.id, topic_id=topic.id)


async def notifications_of(user: User) -> list[Notification]:
    return await Notification.filter(user_id=user.id).order_by("id")


async def kinds_of(user: User) -> list[str]:
    return [str(n.kind) for n in await notifications_of(user)]


async def build_forum(platform: Platform) -> Forum:
    owner = await make_user("owner")
    project = await make_project("acme", owner=owner)
    alice = await make_user("alice")
    bob = await make_user("bob")
    carol = await make_user("carol")
    for user in (alice, bob):
        await add_member(project, user, Role.MEMBER)
    questions = await Category.create(project=project, name="Questions", slug="questions")
    security = await Category.create(project=project, name="Security", slug="security",
                                     private_topics=True, read_access=Access.EVERYONE)
    return Forum(platform, project, questions, security, owner, alice, bob, carol)


@pytest.fixture
async def forum(platform: Platform, db: Any) -> Forum:
    """The forum with the database open, no web app."""
    return await build_forum(platform)


@pytest.fixture
async def web_forum(platform: Platform, app: Any) -> Forum:
    """The forum inside a running app (use with ``client`` and ``login``)."""
    return await build_forum(platform)
