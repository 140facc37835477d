"""Who may read and write what in a project's forum: the one place these rules live.

A ``Viewer`` is a user (or nobody) as seen from one project: role, team membership, admin.
Reading a topic needs its category to be readable and, for a private topic (security
reports), being its author or on the team. Deleted topics and posts are seen by moderators
only. Lists, search and feeds filter with ``ReadScope`` so they never show more than a
topic page would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forum.projects.models import Role
from forum.projects.permissions import Action, ProjectAccess, can
from forum.topics.models import Access, Category, Topic

if TYPE_CHECKING:
    from forum.accounts.models import User

TEAM_ROLES = frozenset({Role.OWNER, Role.LEAD, Role.MAINTAINER, Role.SUPPORTER,
                        Role.MODERATOR})


@dataclass(frozen=True)
class Viewer:
    user: User | None
    role: Role | None
    is_admin: bool

    @classmethod
    def of(cls, access: ProjectAccess, user: User | None) -> Viewer:
        return cls(user, access.role, access.is_admin)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def is_member(self) -> bool:
        return self.role is not None or self.is_admin

    @property
    def is_team(self) -> bool:
        return self.is_admin or (self.role is not None and self.role in TEAM_ROLES)

    @property
    def is_moderator(self) -> bool:
        """May delete, restore, lock, pin, close, move and edit anything."""
        return self.is_admin or can(self.role, Action.MODERATE)

    def passes(self, access: Access | str) -> bool:
        if access == Access.EVERYONE:
            return True
        if access == Access.MEMBERS:
            return self.is_member
        return self.is_team


def can_read_category(viewer: Viewer, category: Category) -> bool:
    return viewer.passes(category.read_access)


def can_post_in_category(viewer: Viewer, category: Category) -> bool:
    """Start a topic there (replying is decided by the topic)."""
    if viewer.user is None or not can_read_category(viewer, category):
        return False
    return viewer.passes(category.post_access)


def can_read_topic(viewer: Viewer, topic: Topic, category: Category) -> bool:
    if not can_read_category(viewer, category):
        return False
    if topic.deleted_at is not None and not viewer.is_moderator:
        return False
    if topic.is_private:
        return viewer.is_team or (viewer.user_id is not None
                                  and viewer.user_id == topic.author_id)  # type: ignore[attr-defined]
    return True


@dataclass(frozen=True)
class ReadScope:
    """What one viewer may read in one project, for lists, feeds and search filters.

    A topic is readable when its category is in ``category_ids`` and it is not private,
    or it is private and (``see_private`` or its author is ``user_id``); deleted topics and
    posts only when ``see_deleted``.
    """

    project_id: int
    category_ids: frozenset[int]
    see_private: bool
    see_deleted: bool
    user_id: int | None


async def read_scope(viewer: Viewer, project_id: int) -> ReadScope:
    categories = await Category.filter(project_id=project_id).only("id", "read_access")
    readable = frozenset(c.id for c in categories if viewer.passes(c.read_access))
    return ReadScope(project_id, readable, viewer.is_team, viewer.is_moderator,
                     viewer.user_id)
