"""Dashboards: who may see which board, and the charts every domain gives it.

Four boards per project. ``helper`` (a community helper's answers, reputation and what
their help earned) is seen by the helper and the project's leads; ``lead`` (the project's
figures) by its owner, leads and platform admins; ``supporter`` (a team member's tickets)
by the supporter and the leads; ``customer`` by the signed-in user, about their own
tickets and payments only. A project the viewer may not see is a 404, as everywhere.

The charts come from ``forum_dashboard_panels``: each domain answers for its own figures.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from forum.accounts.models import User
from forum.charts import MONTH_CHOICES, Chart
from forum.projects.models import Project, Role
from forum.projects.permissions import Action, ProjectAccess, access_project, can, role_in
from forum.web.errors import Forbidden, Invalid, NotFound, Unauthenticated

if TYPE_CHECKING:
    from forum.platform import Platform

DEFAULT_MONTHS = 12


class Board(StrEnum):
    HELPER = "helper"
    LEAD = "lead"
    SUPPORTER = "supporter"
    CUSTOMER = "customer"

    @property
    def has_subject(self) -> bool:
        """Whether the board is about a person named in its URL."""
        return self in (Board.HELPER, Board.SUPPORTER)


BOARD_TITLES = {Board.HELPER: "Helper", Board.LEAD: "Project lead",
                Board.SUPPORTER: "Supporter", Board.CUSTOMER: "My tickets and payments"}


@dataclass(frozen=True)
class BoardAccess:
    """A board the viewer may see: the project, whose board it is and the viewer."""

    access: ProjectAccess
    board: Board
    viewer: User
    subject: User | None  # None for the lead board

    @property
    def project(self) -> Project:
        return self.access.project

    @property
    def subject_username(self) -> str | None:
        return self.subject.username if self.subject is not None else None

    def path(self) -> str:
        base = f"/p/{self.project.slug}/dashboard/{self.board.value}"
        return f"{base}/{self.subject.username}" if self.board.has_subject and self.subject \
            else base


def parse_months(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_MONTHS
    try:
        months = int(raw)
    except ValueError:
        months = 0
    if months not in MONTH_CHOICES:
        choices = ", ".join(str(m) for m in MONTH_CHOICES)
        raise Invalid(f"The period is one of {choices} months.",
                      fields={"months": f"One of {choices}."})
    return months


def parse_board(raw: str) -> Board:
    try:
        return Board(raw)
    except ValueError:
        raise NotFound("No such dashboard.") from None


def is_lead(access: ProjectAccess) -> bool:
    """Owners, leads and platform admins see every board of the project."""
    return access.can(Action.MANAGE_SETTINGS)


async def access_board(user: User | None, slug: str, board: Board,
                       username: str | None) -> BoardAccess:
    """The board if ``user`` may see it; 404 for an unknown project, board or person, 401
    for anonymous visitors, 403 for someone else's board."""
    access = await access_project(user, slug, Action.VIEW)
    if user is None:
        raise Unauthenticated("Sign in to see dashboards.")
    if board.has_subject != (username is not None):
        raise NotFound("No such dashboard.")
    lead = is_lead(access)
    if board is Board.LEAD:
        if not lead:
            raise Forbidden("Only the project's owner and leads see the project dashboard.")
        return BoardAccess(access, board, user, None)
    if board is Board.CUSTOMER:
        return BoardAccess(access, board, user, user)
    assert username is not None
    subject = user if username.lower() == user.username_lower else await User.get_or_none(
        username_lower=username.lower(), is_active=True)
    if subject is None:
        raise NotFound("No such user.")
    if subject.id != user.id and not lead:
        raise Forbidden("This dashboard is seen by its owner and the project's leads only.")
    if board is Board.SUPPORTER:
        role = access.role if subject.id == user.id else await role_in(access.project.id,
                                                                       subject)
        if not can(role, Action.WORK_SUPPORT_QUEUE):
            raise NotFound(f"{subject.username} is not on the project's support team.")
    return BoardAccess(access, board, user, subject)


def visible_boards(access: ProjectAccess, user: User) -> list[tuple[Board, str]]:
    """The boards the signed-in ``user`` may open in the project, with their paths."""
    slug = access.project.slug
    boards = [(Board.CUSTOMER, f"/p/{slug}/dashboard/customer"),
              (Board.HELPER, f"/p/{slug}/dashboard/helper/{user.username}")]
    if can(access.role, Action.WORK_SUPPORT_QUEUE):
        boards.append((Board.SUPPORTER, f"/p/{slug}/dashboard/supporter/{user.username}"))
    if is_lead(access):
        boards.append((Board.LEAD, f"/p/{slug}/dashboard/lead"))
    return boards


async def team_members(project: Project) -> list[str]:
    """Usernames of the project's support team (the leads' links to supporter boards)."""
    from forum.projects.models import Membership

    roles = [r.value for r in Role if can(r, Action.WORK_SUPPORT_QUEUE)]
    rows = await Membership.filter(project_id=project.id, role__in=roles).order_by(
        "user__username").values_list("user__username", flat=True)
    return [str(name) for name in rows]


async def board_charts(platform: Platform, board: BoardAccess, months: int) -> list[Chart]:
    """Every domain's charts for the board, in their order."""
    subject_id = board.subject.id if board.subject is not None else None
    found: list[Chart] = []
    for result in platform.plugins.pm.hook.forum_dashboard_panels(
            board=board.board.value, project_id=board.project.id,
            subject_user_id=subject_id, months=months, platform=platform):
        answer = await result if inspect.isawaitable(result) else result
        found.extend(answer or [])
    return sorted(found, key=lambda c: (c.order, c.slug))


def find_chart(charts: list[Chart], slug: str) -> Chart:
    for chart in charts:
        if chart.slug == slug:
            return chart
    raise NotFound("No such chart on this dashboard.")
