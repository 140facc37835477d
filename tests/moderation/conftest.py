"""Fixtures for the flags, review and spam tests: a project with a moderator, an author
with a topic, three flaggers, and a stand-in for the reputation domain's privileges.

The reputation domain answers ``forum_refuse`` for privileges by reputation; the tests
using ``world`` are about moderation, so they swap it for ``Privileges``: FLAG is allowed
unless a test refuses it, REVIEW is refused outside the team unless a test grants it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from forum.accounts.models import User
from forum.gates import Act, Attempt
from forum.hookspecs import hookimpl
from forum.platform import Platform
from forum.projects.models import Project, Role
from forum.topics.categories import ensure_default_categories
from forum.topics.models import Category, Post, Topic
from forum.topics.permissions import Viewer
from forum.topics.schemas import ReplyIn, TopicIn
from forum.topics.service import create_topic, load_viewer, reply
from tests.factories import add_member, make_project, make_user


@dataclass
class Privileges:
    PLUGIN_NAME = "privileges-stand-in"
    no_flag: set[int] = field(default_factory=set)
    reviewers: set[int] = field(default_factory=set)

    @hookimpl
    def forum_refuse(self, attempt: Attempt) -> str | None:
        if attempt.act == Act.FLAG and attempt.user_id in self.no_flag:
            return "You need 15 reputation to flag posts."
        if (attempt.act == Act.REVIEW and not attempt.is_staff
                and attempt.user_id not in self.reviewers):
            return "You need 500 reputation to review."
        return None


@pytest.fixture
def privileges(platform: Platform) -> Iterator[Privileges]:
    """The reputation domain's plugin set aside, ``Privileges`` answering instead."""
    stand_in = Privileges()
    for name in [n for n, _ in platform.plugins.pm.list_name_plugin() if n and
                 n.startswith("forum.reputation") and n.endswith(".plugin")]:
        platform.plugins.pm.unregister(name=name)
    platform.plugins.pm.register(stand_in, name=stand_in.PLUGIN_NAME)
    yield stand_in
    platform.plugins.pm.unregister(stand_in)


@dataclass
class World:
    platform: Platform
    project: Project
    owner: User
    moderator: User
    author: User
    flaggers: list[User]
    outsider: User
    category: Category
    topic: Topic
    opening: Post
    answer: Post  # the author's reply

    async def viewer(self, user: User | None, project: Project | None = None) -> Viewer:
        return await load_viewer(user, project or self.project)

    async def post_by(self, user: User, source: str) -> Post:
        return await reply(self.platform, await self.viewer(user), self.topic,
                           ReplyIn(source=source))


async def make_world(platform: Platform, slug: str | None = None) -> World:
    owner = await make_user()
    project = await make_project(slug, owner=owner)
    moderator = await make_user()
    await add_member(project, moderator, Role.MODERATOR)
    author = await make_user()
    flaggers = [await make_user() for _ in range(3)]
    outsider = await make_user()
    categories = {c.slug: c for c in await ensure_default_categories(project)}
    category = categories["questions"]
    viewer = await load_viewer(author, project)
    topic = await create_topic(platform, viewer, project, TopicIn(
        title="How do I configure the frobnicator?", category_id=category.id,
        source="I tried everything in the manual and it still fails."))
    opening = await Post.get(topic_id=topic.id, number=1)
    answer = await reply(platform, viewer, topic,
                         ReplyIn(source="Buy cheap watches at example dot com today"))
    return World(platform, project, owner, moderator, author, flaggers, outsider,
                 category, topic, opening, answer)


@pytest.fixture
async def world(db: None, platform: Platform, privileges: Privileges) -> World:
    return await make_world(platform)


@pytest.fixture
async def web_world(app: object, platform: Platform, privileges: Privileges) -> World:
    """The same world, with the app (and its database) running."""
    return await make_world(platform)
