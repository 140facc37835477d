"""The projects domain's verbs: create and configure projects, list what a viewer may see,
and the platform-wide settings the admin edits.

Memberships and invitations live in ``forum.projects.members``; per-project plugin
switches and settings in ``forum.projects.plugin_settings``.

A new project starts with every optional plugin switched off: the project does not
exist before ``ProjectCreated``, so that event reaches only the core's own handlers. A
plugin that needs per-project setup does it when it hears ``PluginToggled(enabled=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from forum import events
from forum.accounts.models import User
from forum.projects.models import Membership, PlatformSetting, Project, ProjectPlugin, Role
from forum.projects.permissions import Action, ProjectAccess
from forum.projects.schemas import ProjectIn, ProjectUpdate
from forum.web.errors import Conflict, Forbidden

if TYPE_CHECKING:
    from forum.platform import Platform

FEE_KEY = "platform_fee_percent"


async def enabled_plugin_names(platform: Platform, project_id: int) -> set[str]:
    """Names of the optional plugins switched on for a project."""
    rows = await ProjectPlugin.filter(project_id=project_id, enabled=True).values_list(
        "name", flat=True)
    return {str(name) for name in rows} & set(platform.plugins.names())


async def project_by_id(project_id: int) -> Project | None:
    """A project by id, with no access check (for jobs and bridge plugins acting on a
    project they are linked to)."""
    return await Project.get_or_none(id=project_id)


async def project_by_slug(slug: str) -> Project | None:
    """A project by its slug, with no access check (for commands run by the operator)."""
    return await Project.get_or_none(slug=slug)


async def projects_for_switcher(user: User) -> list[Project]:
    """The projects a user belongs to, for the switcher in the page header (only the id,
    slug and name it shows: this runs on every signed-in page)."""
    return await Project.filter(memberships__user_id=user.id).order_by("name").limit(50).only(
        "id", "slug", "name")


# Reading


@dataclass(frozen=True)
class ProjectView:
    """A project with what a list or a page shows beside it."""

    project: Project
    members_count: int
    role: Role | None


async def members_counts(project_ids: list[int]) -> dict[int, int]:
    if not project_ids:
        return {}
    rows = await (Membership.filter(project_id__in=project_ids).annotate(n=Count("id"))
                  .group_by("project_id").values_list("project_id", "n"))
    return {int(pid): int(n) for pid, n in rows}


async def visible_projects(user: User | None) -> list[ProjectView]:
    """Public projects and the viewer's own; every project for a platform admin."""
    query = Project.all()
    if user is None:
        query = query.filter(default_visibility="public")
    elif not user.is_platform_admin:
        member_of = Membership.filter(user_id=user.id).values_list("project_id", flat=True)
        query = query.filter(Q(default_visibility="public") | Q(id__in=await member_of))
    projects = await query.order_by("name", "id")
    counts = await members_counts([p.id for p in projects])
    roles: dict[int, Role] = {}
    if user is not None:
        rows = await Membership.filter(user_id=user.id).values_list("project_id", "role")
        roles = {int(pid): Role(role) for pid, role in rows}
    return [ProjectView(p, counts.get(p.id, 0), roles.get(p.id)) for p in projects]


async def project_view(access: ProjectAccess) -> ProjectView:
    counts = await members_counts([access.project.id])
    return ProjectView(access.project, counts.get(access.project.id, 0), access.role)


# Creating and configuring


async def check_create_project(platform: Platform, creator: User, data: ProjectIn) -> Project:
    """Refuse a taken slug (409); the schema already validated the fields."""
    if await Project.exists(slug=data.slug):
        raise _slug_taken(data.slug)
    return await do_create_project(platform, creator, data)


async def do_create_project(platform: Platform, creator: User, data: ProjectIn) -> Project:
    """Create the project with ``creator`` as its owner, then emit ``ProjectCreated``."""
    try:
        async with in_transaction():
            project = await Project.create(**data.model_dump())
            await Membership.create(project=project, user_id=creator.id, role=Role.OWNER)
    except IntegrityError:
        # Lost a race for the slug with another request.
        raise _slug_taken(data.slug) from None
    await platform.emit(events.ProjectCreated(id=project.id, slug=project.slug,
                                              owner_id=creator.id))
    return project


def _slug_taken(slug: str) -> Conflict:
    return Conflict(f'The address "{slug}" is already taken.',
                    fields={"slug": "is already taken"})


async def check_update_project(platform: Platform, access: ProjectAccess,
                               data: ProjectUpdate) -> Project:
    if not access.can(Action.MANAGE_SETTINGS):
        raise Forbidden("Only a project owner or lead may change its settings.")
    return await do_update_project(platform, access.project, data)


async def do_update_project(platform: Platform, project: Project,
                            data: ProjectUpdate) -> Project:
    changes = data.model_dump(exclude_none=True)
    if changes:
        async with in_transaction():
            await Project.filter(id=project.id).update(**changes)
        await project.refresh_from_db()
    return project


# Platform settings


async def platform_fee_percent(platform: Platform) -> Decimal:
    """The platform's cut of every payment, in percent (billing uses it)."""
    row = await PlatformSetting.get_or_none(key=FEE_KEY)
    if row is None:
        return Decimal(str(platform.settings.platform_fee_percent)).quantize(Decimal("0.01"))
    return Decimal(str(row.value)).quantize(Decimal("0.01"))


async def check_set_platform_fee(platform: Platform, actor: User, fee: Decimal) -> None:
    if not actor.is_platform_admin:
        raise Forbidden("Only platform admins may change platform settings.")
    await do_set_platform_fee(platform, fee)


async def do_set_platform_fee(platform: Platform, fee: Decimal) -> None:
    # Stored as a string so the exact decimal survives JSON.
    value = str(fee.quantize(Decimal("0.01")))
    async with in_transaction():
        row = await PlatformSetting.get_or_none(key=FEE_KEY)
        if row is None:
            await PlatformSetting.create(key=FEE_KEY, value=value)
        else:
            row.value = value
            await row.save()
