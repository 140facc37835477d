"""Fixtures for the topics tests: a project with its default categories and a cast of
users in every role, and a recorder of emitted events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from forum import events
from forum.accounts.models import User
from forum.platform import Platform
from forum.projects.models import Project, Role
from forum.topics.categories import ensure_default_categories
from forum.topics.models import Bookmark, Category, Post, PostRevision, Tag, Topic, Vote
from forum.topics.permissions import Viewer
from forum.topics.schemas import ReplyIn, TopicIn
from forum.topics.service import create_topic, load_viewer, reply
from tests.factories import add_member, make_project, make_user
from tests.topics.gatekeeper import Gatekeeper


@pytest.fixture
def gatekeeper(platform: Platform) -> Iterator[Gatekeeper]:
    """A plugin answering the gates as the test tells it (see tests/topics/gatekeeper.py)."""
    keeper = Gatekeeper()
    platform.plugins.pm.register(keeper, name=keeper.PLUGIN_NAME)
    yield keeper
    platform.plugins.pm.unregister(keeper)


@pytest.fixture
def emitted(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> list[events.Event]:
    """Events the platform emits, recorded before they are dispatched."""
    seen: list[events.Event] = []
    original = platform.emit

    async def spy(event: events.Event) -> None:
        seen.append(event)
        await original(event)

    monkeypatch.setattr(platform, "emit", spy)
    return seen


@dataclass
class World:
    project: Project
    owner: User
    maintainer: User
    moderator: User
    supporter: User
    member: User
    outsider: User  # signed in, not a member
    categories: dict[str, Category]

    async def viewer(self, user: User | None) -> Viewer:
        return await load_viewer(user, self.project)

    @property
    def questions(self) -> Category:
        return self.categories["questions"]


async def make_world(slug: str | None = None) -> World:
    owner = await make_user()
    project = await make_project(slug, owner=owner)
    users: dict[str, User] = {}
    for role in (Role.MAINTAINER, Role.MODERATOR, Role.SUPPORTER, Role.MEMBER):
        users[role.value] = await make_user()
        await add_member(project, users[role.value], role)
    outsider = await make_user()
    categories = {c.slug: c for c in await ensure_default_categories(project)}
    return World(project, owner, users["maintainer"], users["moderator"],
                 users["supporter"], users["member"], outsider, categories)


@pytest.fixture
async def world(db: None) -> World:
    return await make_world()


def topic_data(category: Category, **fields: object) -> TopicIn:
    data: dict[str, object] = {"title": "How do I configure the parser?",
                               "source": "I tried **everything**.",
                               "category_id": category.id}
    data.update(fields)
    return TopicIn.model_validate(data)


async def start_topic(platform: Platform, world: World, author: User | None = None,
                      category: Category | None = None, **fields: object) -> Topic:
    viewer = await world.viewer(author or world.member)
    return await create_topic(platform, viewer, world.project,
                              topic_data(category or world.questions, **fields))


async def answer(platform: Platform, world: World, topic: Topic, author: User,
                 source: str = "Set `strict=True` in the options.", **fields: object) -> Post:
    viewer = await world.viewer(author)
    return await reply(platform, viewer, topic, ReplyIn.model_validate(
        {"source": source, **fields}))


async def snapshot() -> dict[str, int]:
    """Row counts of everything the write verbs touch, to assert nothing was stored."""
    return {model.__name__: await model.all().count()
            for model in (Topic, Post, PostRevision, Vote, Tag, Bookmark)}
