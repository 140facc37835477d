"""Who may read and write what in a project's forum: the one place these rules live.

A ``Viewer`` is a user (or nobody) as seen from one project: role, team membership, admin.
Reading a topic needs its category to be readable and, for a private topic (security
reports), being its author or on the team. Deleted topics and posts are seen by moderators
only; hidden ones (held for review, or hidden by flags) by moderators and their authors.
Lists, search and feeds filter with ``ReadScope`` (and ``hidden_q``) so they never show
more than a topic page would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tortoise.expressions import Q

from forum.projects.models import Role
from forum.projects.permissions import Action, ProjectAccess, can
from forum.topics.models import Access, Category, Post, Topic, TopicKind

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.projects.models import Project

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
    is_author = viewer.user_id is not None and viewer.user_id == topic.author_id  # type: ignore[attr-defined]
    if topic.hidden_at is not None and not (viewer.is_moderator or is_author):
        return False
    if topic.is_private:
        return viewer.is_team or is_author
    return True


def can_see_post(viewer: Viewer, post: Post) -> bool:
    """A post of a readable topic: deleted ones by moderators, hidden ones (waiting for
    review) by moderators and their author."""
    if viewer.is_moderator:
        return True
    if post.deleted_at is not None:
        return False
    if post.hidden_at is not None:
        return viewer.user_id is not None and viewer.user_id == post.author_id  # type: ignore[attr-defined]
    return True


@dataclass(frozen=True)
class ReadScope:
    """What one viewer may read in one project, for lists, feeds and search filters.

    A topic is readable when its category is in ``category_ids`` and it is not private,
    or it is private and (``see_private`` or its author is ``user_id``); deleted topics and
    posts only when ``see_deleted``; hidden topics and posts (``hidden_at`` set) only when
    ``see_hidden`` or their author is ``user_id``.
    """

    project_id: int
    category_ids: frozenset[int]
    see_private: bool
    see_deleted: bool
    user_id: int | None
    see_hidden: bool = False


async def read_scope(viewer: Viewer, project_id: int) -> ReadScope:
    categories = await Category.filter(project_id=project_id).only("id", "read_access")
    readable = frozenset(c.id for c in categories if viewer.passes(c.read_access))
    return ReadScope(project_id, readable, viewer.is_team, viewer.is_moderator,
                     viewer.user_id, viewer.is_moderator)


def hidden_q(scope: ReadScope, prefix: str = "") -> Q | None:
    """The rows (topics; posts with ``prefix`` "" too, topics of posts with "topic__") that
    are not hidden from ``scope``: None when it sees everything hidden. AND it into a
    query: ``query.filter(hidden_q(scope))`` when not None."""
    if scope.see_hidden:
        return None
    not_hidden: dict[str, Any] = {f"{prefix}hidden_at__isnull": True}
    visible = Q(**not_hidden)
    if scope.user_id is not None:
        own: dict[str, Any] = {f"{prefix}author_id": scope.user_id}
        visible |= Q(**own)
    return visible


def visible_posts_q(viewer: Viewer) -> Q | None:
    """The posts of a readable topic that are not hidden from ``viewer`` (``can_see_post``
    as a filter, deletion aside): None for moderators, who see them all."""
    if viewer.is_moderator:
        return None
    return hidden_q(ReadScope(0, frozenset(), False, False, viewer.user_id))


# Writing. Each rule answers yes or no; the verbs turn a "no" into a refusal with a reason.


def can_manage_categories(viewer: Viewer) -> bool:
    """Create, edit, reorder and delete categories: project owners and leads."""
    return viewer.is_admin or can(viewer.role, Action.MANAGE_SETTINGS)


def can_create_tags(viewer: Viewer) -> bool:
    """The base rule for creating a tag on first use: signed in. The privilege itself is
    asked of the gates (``Act.CREATE_TAG``, see forum/topics/gating.py)."""
    return viewer.user is not None


def can_reply(viewer: Viewer, topic: Topic, category: Category) -> bool:
    """Reply to a readable topic. Members-only posting categories need membership to reply;
    team-only posting categories (announcements) still let every reader reply. Locked and
    closed topics take replies from moderators only; archived and deleted ones from nobody."""
    if viewer.user is None or not can_read_topic(viewer, topic, category):
        return False
    if category.post_access == Access.MEMBERS and not viewer.is_member:
        return False
    return reply_refusal(viewer, topic) is None


def reply_refusal(viewer: Viewer, topic: Topic) -> str | None:
    """Why the topic takes no reply from this viewer now, or None."""
    if topic.deleted_at is not None:
        return "This topic was deleted."
    if topic.state == "archived":
        return "This topic is archived."
    if viewer.is_moderator:
        return None
    if topic.locked:
        return "This topic is locked."
    if topic.state == "closed":
        return "This topic is closed."
    return None


def can_edit_post(viewer: Viewer, post: Post, topic: Topic, project: Project,
                  now: datetime | None = None) -> bool:
    """Moderators always; the author within the project's edit window, while the post and
    its topic are not deleted, locked or archived."""
    if viewer.user is None:
        return False
    if viewer.is_moderator:
        return True
    if viewer.user_id != post.author_id:  # type: ignore[attr-defined]
        return False
    if post.deleted_at is not None or topic.deleted_at is not None:
        return False
    if topic.locked or topic.state == "archived":
        return False
    return within_edit_window(post, project, now)


def within_edit_window(post: Post, project: Project, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return now - post.created_at <= timedelta(minutes=project.post_edit_window_minutes)


def can_delete_post(viewer: Viewer, post: Post) -> bool:
    """Moderators delete any post; authors their own."""
    if viewer.user is None:
        return False
    return viewer.is_moderator or viewer.user_id == post.author_id  # type: ignore[attr-defined]


def can_restore(viewer: Viewer) -> bool:
    return viewer.user is not None and viewer.is_moderator


def can_moderate_topic(viewer: Viewer) -> bool:
    """Pin, lock, close, archive, move and delete topics."""
    return viewer.user is not None and viewer.is_moderator


def can_triage(viewer: Viewer) -> bool:
    """Move, change the kind of, merge, split and close topics with a reason: the project's
    moderators and leads (and platform admins)."""
    return viewer.user is not None and viewer.is_moderator


def can_hide_posts(viewer: Viewer) -> bool:
    """Hide a post pending review, or approve a hidden one."""
    return viewer.user is not None and viewer.is_moderator


def can_vote(viewer: Viewer, post: Post) -> bool:
    """Any signed-in reader votes, never on their own post."""
    return viewer.user is not None and viewer.user_id != post.author_id  # type: ignore[attr-defined]


def can_accept(viewer: Viewer, topic: Topic) -> bool:
    """The asker, or a maintainer and above (the TRIAGE action), accepts an answer."""
    if viewer.user is None:
        return False
    if viewer.user_id == topic.author_id:  # type: ignore[attr-defined]
        return True
    return viewer.is_admin or can(viewer.role, Action.TRIAGE)


def can_post_kind(viewer: Viewer, kind: TopicKind | str) -> bool:
    """Announcements come from the team."""
    return kind != TopicKind.ANNOUNCEMENT or viewer.is_team
