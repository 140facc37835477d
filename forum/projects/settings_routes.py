"""A project's settings page: general settings, members and roles, invitations, plugins.

Every form posts to its own URL and redirects back; the page itself needs the
``manage_settings`` action, each post the action of what it changes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.projects import members, plugin_settings, service
from forum.projects.models import Project, Role
from forum.projects.permissions import ROLE_ORDER, Action, ProjectAccess, access_project, rank
from forum.projects.routes import (
    form_data,
    login_redirect,
    parse,
    platform_of,
    see_other,
    time_zones,
)
from forum.projects.schemas import InvitationIn, ProjectUpdate, RoleIn
from forum.web.errors import UserError
from forum.web.templating import flash, render


def settings_url(project: Project, section: str = "") -> str:
    return f"/p/{project.slug}/settings" + (f"#{section}" if section else "")


def assignable_roles(access: ProjectAccess) -> list[Role]:
    """Roles the viewer may hand out: none above their own."""
    if access.is_admin or access.role is None:
        return list(ROLE_ORDER) if access.is_admin else []
    return [role for role in ROLE_ORDER if rank(role) <= rank(access.role)]


def general_values(project: Project) -> dict[str, str]:
    return {"name": project.name, "description": project.description,
            "legal_entity": project.legal_entity, "contact_email": project.contact_email,
            "time_zone": project.time_zone,
            "default_visibility": str(project.default_visibility)}


async def render_settings(request: Request, access: ProjectAccess, *,
                          values: dict[str, str] | None = None,
                          errors: dict[str, str] | None = None, message: str = "",
                          status: int = 200) -> Response:
    project = access.project
    platform = platform_of(request)
    return await render(request, "projects/settings.html", {
        "current_project": project,
        "project": project,
        "access": access,
        "values": values or general_values(project),
        "errors": errors or {},
        "message": message,
        "time_zones": time_zones(),
        "members": await members.list_members(project),
        "roles": assignable_roles(access),
        "all_roles": list(ROLE_ORDER),
        "invitations": await members.pending_invitations(project),
        "plugins": await plugin_settings.plugin_states(platform, project),
    }, status_code=status)


async def settings_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    return await render_settings(request, access)


async def save_general(request: Request) -> Response:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.MANAGE_SETTINGS)
    values = await form_data(request)
    try:
        data = parse(ProjectUpdate, values)
        project = await service.check_update_project(platform_of(request), access, data)
    except UserError as exc:
        if exc.status != 422:
            raise
        shown = {**general_values(access.project), **values}
        return await render_settings(request, access, values=shown, errors=exc.fields,
                                     message=exc.message, status=422)
    flash(request, "Settings saved.", "success")
    return see_other(settings_url(project))


async def _member_action(request: Request, action: Action) -> tuple[User, ProjectAccess]:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], action)
    return user, access


async def change_role(request: Request) -> Response:
    _, access = await _member_action(request, Action.MANAGE_MEMBERS)
    data = parse(RoleIn, await form_data(request))
    await members.check_change_role(platform_of(request), access,
                                    request.path_params["user_id"], data.role)
    flash(request, f"Role changed to {data.role.value}.", "success")
    return see_other(settings_url(access.project, "members"))


async def remove_member(request: Request) -> Response:
    user, access = await _member_action(request, Action.MANAGE_MEMBERS)
    await members.check_remove_member(platform_of(request), access, user,
                                      request.path_params["user_id"])
    flash(request, "Member removed.", "success")
    return see_other(settings_url(access.project, "members"))


async def invite(request: Request) -> Response:
    user, access = await _member_action(request, Action.INVITE)
    data = parse(InvitationIn, await form_data(request))
    await members.check_invite(platform_of(request), access, user, data.email, data.role)
    flash(request, f"Invitation sent to {data.email.lower()}.", "success")
    return see_other(settings_url(access.project, "invitations"))


async def revoke_invitation(request: Request) -> Response:
    _, access = await _member_action(request, Action.INVITE)
    await members.check_revoke_invitation(platform_of(request), access,
                                          request.path_params["invitation_id"])
    flash(request, "Invitation revoked.", "success")
    return see_other(settings_url(access.project, "invitations"))


async def toggle_plugin(request: Request) -> Response:
    _, access = await _member_action(request, Action.MANAGE_PLUGINS)
    name = request.path_params["name"]
    enabled = (await form_data(request)).get("enabled") == "on"
    await plugin_settings.check_toggle_plugin(platform_of(request), access, name, enabled)
    flash(request, f"Plugin {name} switched {'on' if enabled else 'off'}.", "success")
    return see_other(settings_url(access.project, "plugins"))


async def save_plugin_settings(request: Request) -> Response:
    _, access = await _member_action(request, Action.MANAGE_PLUGINS)
    name = request.path_params["name"]
    platform = platform_of(request)
    declared = plugin_settings.settings_schemas(platform).get(name)
    raw = plugin_settings.form_values(declared.schema, await form_data(request)) if declared \
        else {}
    await plugin_settings.check_plugin_settings(platform, access, name, raw)
    flash(request, f"Settings of {name} saved.", "success")
    return see_other(settings_url(access.project, "plugins"))


def routes() -> list[BaseRoute]:
    base = "/p/{slug}/settings"
    return [
        Route(base, settings_page, name="project_settings"),
        Route(base, save_general, methods=["POST"], name="project_settings_save"),
        Route(base + "/members/{user_id:int}/role", change_role, methods=["POST"],
              name="project_member_role"),
        Route(base + "/members/{user_id:int}/remove", remove_member, methods=["POST"],
              name="project_member_remove"),
        Route(base + "/invitations", invite, methods=["POST"], name="project_invite"),
        Route(base + "/invitations/{invitation_id:int}/revoke", revoke_invitation,
              methods=["POST"], name="project_invitation_revoke"),
        Route(base + "/plugins/{name}/toggle", toggle_plugin, methods=["POST"],
              name="project_plugin_toggle"),
        Route(base + "/plugins/{name}", save_plugin_settings, methods=["POST"],
              name="project_plugin_settings"),
    ]
