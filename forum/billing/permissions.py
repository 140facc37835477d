"""Who may do what with a project's money: leads set plans and prices, the team reads a
ticket's upgrade page, only its requester buys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.topics.permissions import TEAM_ROLES
from forum.web.errors import Forbidden, NotFound, Unauthenticated

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.hookspecs import TicketFacts


async def access_billing_lead(user: User | None, slug: str) -> ProjectAccess:
    """The project for one of its leads (owner, lead, or a platform admin), or refuse."""
    if user is None:
        raise Unauthenticated()
    return await access_project(user, slug, Action.MANAGE_SETTINGS)


def is_team(access: ProjectAccess) -> bool:
    return access.is_admin or (access.role is not None and access.role in TEAM_ROLES)


def ticket_role(access: ProjectAccess, user: User | None, facts: TicketFacts) -> str:
    """"requester" (may buy), "team" (reads the page), or refuse: a private ticket is not
    found for anyone else, a public one is forbidden."""
    if user is not None and facts.requester_id == user.id:
        return "requester"
    if is_team(access):
        return "team"
    if facts.is_private:
        raise NotFound("No such ticket.")
    if user is None:
        raise Unauthenticated()
    raise Forbidden("Only the person who opened this ticket may upgrade it.")
