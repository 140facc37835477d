"""The projects domain's verbs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.accounts.models import User
from forum.projects.models import Project, ProjectPlugin

if TYPE_CHECKING:
    from forum.platform import Platform


async def enabled_plugin_names(platform: Platform, project_id: int) -> set[str]:
    """Names of the optional plugins switched on for a project."""
    rows = await ProjectPlugin.filter(project_id=project_id, enabled=True).values_list(
        "name", flat=True)
    return {str(name) for name in rows} & set(platform.plugins.names())


async def projects_for_switcher(user: User) -> list[Project]:
    """The projects a user belongs to, for the switcher in the page header."""
    return await Project.filter(memberships__user_id=user.id).order_by("name").limit(50)
