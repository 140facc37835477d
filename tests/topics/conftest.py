"""Fixtures for the topics tests: a project with its default categories and a cast of
users in every role, and a recorder of emitted events."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from forum import events
from forum.accounts.models import User
from forum.platform import Platform
from forum.projects.models import Project, Role
from forum.topics.categories import ensure_default_categories
from forum.topics.models import Category
from forum.topics.permissions import Viewer
from forum.topics.service import load_viewer
from tests.factories import add_member, make_project, make_user


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
