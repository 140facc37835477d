"""``/api/v1/projects``: the JSON side of the projects domain."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from forum.accounts.permissions import current_user, require_user
from forum.projects import members, service
from forum.projects.permissions import Action, access_project
from forum.projects.routes import (
    platform_of,
)
from forum.projects.schemas import (
    MemberList,
    MemberOut,
    ProjectIn,
    ProjectList,
    ProjectOut,
    ProjectUpdate,
)
from forum.projects.service import ProjectView
from forum.web.api import api_route

TAG = "projects"


def project_out(view: ProjectView) -> ProjectOut:
    p = view.project
    return ProjectOut(slug=p.slug, name=p.name, description=p.description,
                      legal_entity=p.legal_entity, contact_email=p.contact_email,
                      time_zone=p.time_zone, default_visibility=p.default_visibility,
                      created_at=p.created_at, members_count=view.members_count,
                      your_role=view.role)


@api_route("POST", "/api/v1/projects", body=ProjectIn, response=ProjectOut, status=201,
           errors=(409,), tag=TAG)
async def create_project(request: Request, body: ProjectIn) -> ProjectOut:
    """Create a project; the caller becomes its owner."""
    user = require_user(request)
    await service.check_create_project(platform_of(request), user, body)
    access = await access_project(user, body.slug)
    return project_out(await service.project_view(access))


@api_route("GET", "/api/v1/projects", response=ProjectList, auth=False, tag=TAG)
async def list_projects(request: Request) -> ProjectList:
    """The projects the caller can see: public ones and their own."""
    views = await service.visible_projects(current_user(request))
    return ProjectList(projects=[project_out(v) for v in views])


@api_route("GET", "/api/v1/projects/{slug}", response=ProjectOut, auth=False,
           errors=(404,), tag=TAG)
async def get_project(request: Request) -> ProjectOut:
    """One project (404 when unknown or not visible to the caller)."""
    access = await access_project(current_user(request), request.path_params["slug"])
    return project_out(await service.project_view(access))


@api_route("PATCH", "/api/v1/projects/{slug}", body=ProjectUpdate, response=ProjectOut,
           errors=(403, 404), tag=TAG)
async def update_project(request: Request, body: ProjectUpdate) -> ProjectOut:
    """Change a project's settings (owner or lead)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    await service.check_update_project(platform_of(request), access, body)
    return project_out(await service.project_view(access))


@api_route("GET", "/api/v1/projects/{slug}/members", response=MemberList,
           errors=(403, 404), tag=TAG)
async def list_members(request: Request) -> MemberList:
    """The members of a project and their roles (members only)."""
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.VIEW_MEMBERS)
    rows = await members.list_members(access.project)
    return MemberList(members=[MemberOut(user_id=m.user_id, username=m.username, role=m.role,
                                         joined_at=m.joined_at) for m in rows])


def routes() -> list[BaseRoute]:
    return [create_project, list_projects, get_project, update_project, list_members]
