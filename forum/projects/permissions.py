"""Who may do what in a project: the one table of roles and actions, and the access check.

Roles are ranked (owner highest); each action names the roles allowed to perform it.
Platform admins may do everything everywhere. A project the viewer may not see (an
unknown slug, or a members-only project they do not belong to) is reported as not found,
so its existence does not leak; a visible project acted on without the role is forbidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise.expressions import RawSQL

from forum.projects.models import Membership, Project, Role, Visibility
from forum.web.errors import Forbidden, NotFound, Unauthenticated

if TYPE_CHECKING:
    from forum.accounts.models import User

# Highest first. A rank decides who may grant or change whose role.
ROLE_ORDER: tuple[Role, ...] = (
    Role.OWNER,
    Role.LEAD,
    Role.MAINTAINER,
    Role.SUPPORTER,
    Role.MODERATOR,
    Role.MEMBER,
)


class Action(StrEnum):
    VIEW = "view"
    VIEW_MEMBERS = "view_members"
    MODERATE = "moderate"  # flags, review queue, silences
    WORK_SUPPORT_QUEUE = "work_support_queue"  # the team's inbox
    TRIAGE = "triage"  # move, merge, convert, escalate to GitHub
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_MEMBERS = "manage_members"
    INVITE = "invite"
    MANAGE_PLUGINS = "manage_plugins"


_ALL = frozenset(ROLE_ORDER)
_LEADS = frozenset({Role.OWNER, Role.LEAD})

ALLOWED: dict[Action, frozenset[Role]] = {
    Action.VIEW: _ALL,
    Action.VIEW_MEMBERS: _ALL,
    Action.MODERATE: frozenset({Role.OWNER, Role.LEAD, Role.MAINTAINER, Role.MODERATOR}),
    Action.WORK_SUPPORT_QUEUE: frozenset({Role.OWNER, Role.LEAD, Role.MAINTAINER,
                                          Role.SUPPORTER}),
    Action.TRIAGE: frozenset({Role.OWNER, Role.LEAD, Role.MAINTAINER}),
    Action.MANAGE_SETTINGS: _LEADS,
    Action.MANAGE_MEMBERS: _LEADS,
    Action.INVITE: _LEADS,
    Action.MANAGE_PLUGINS: _LEADS,
}

# Actions anyone who can see the project may do, member or not.
PUBLIC_ACTIONS = frozenset({Action.VIEW})


def rank(role: Role) -> int:
    """Larger is more powerful."""
    return len(ROLE_ORDER) - ROLE_ORDER.index(role)


def can(role: Role | str | None, action: Action) -> bool:
    """Whether a member holding ``role`` (None: not a member) may perform ``action``."""
    if role is None:
        return False
    return Role(role) in ALLOWED[action]


def may_assign(actor_role: Role | None, *, is_admin: bool, target_role: Role,
               current_role: Role | None = None) -> bool:
    """Whether the actor may give ``target_role`` to someone currently holding
    ``current_role``: nobody grants a role above their own or changes someone above them."""
    if is_admin:
        return True
    if actor_role is None:
        return False
    ceiling = rank(actor_role)
    if rank(target_role) > ceiling:
        return False
    return current_role is None or rank(current_role) <= ceiling


@dataclass(frozen=True)
class ProjectAccess:
    """A project as one viewer sees it: their role there and whether they are an admin."""

    project: Project
    role: Role | None
    is_admin: bool

    def can(self, action: Action) -> bool:
        if self.is_admin or action in PUBLIC_ACTIONS:
            return True
        return can(self.role, action)

    @property
    def is_member(self) -> bool:
        return self.role is not None


async def role_in(project_id: int, user: User | None) -> Role | None:
    if user is None:
        return None
    membership = await Membership.get_or_none(project_id=project_id, user_id=user.id)
    return None if membership is None else Role(membership.role)


async def _project_and_role(slug: str, user: User | None) -> tuple[Project, Role | None]:
    """The project ``slug`` and the user's role there, in one query (the membership as a
    subquery); NotFound for an unknown slug."""
    query = Project.filter(slug=slug)
    if user is not None:
        # A user id is an int from the database: nothing of the request reaches this text.
        query = query.annotate(viewer_role=RawSQL(
            "(SELECT role FROM memberships WHERE memberships.project_id = projects.id"
            f" AND memberships.user_id = {int(user.id)})"))
    project = await query.first()
    if project is None:
        raise NotFound("No such project.")
    value = getattr(project, "viewer_role", None) if user is not None else None
    return project, None if value is None else Role(value)


def can_see(project: Project, role: Role | None, user: User | None) -> bool:
    if user is not None and user.is_platform_admin:
        return True
    return project.default_visibility == Visibility.PUBLIC or role is not None


async def access_project(user: User | None, slug: str, action: Action = Action.VIEW
                         ) -> ProjectAccess:
    """Load the project ``slug`` for ``user`` doing ``action``, or refuse.

    NotFound: unknown slug, or a members-only project the user is not in.
    Unauthenticated: an anonymous visitor asking for more than viewing.
    Forbidden: the project is visible but the user lacks the role.
    """
    project, role = await _project_and_role(slug, user)
    if not can_see(project, role, user):
        raise NotFound("No such project.")
    access = ProjectAccess(project, role, bool(user is not None and user.is_platform_admin))
    if not access.can(action):
        if user is None:
            raise Unauthenticated()
        raise Forbidden(_refusal(action))
    return access


def _refusal(action: Action) -> str:
    allowed = [r.value for r in ROLE_ORDER if r in ALLOWED[action]]
    who = ", ".join(allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else allowed[0]
    return f"Only a project {who} may do that."
