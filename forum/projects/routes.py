"""Project pages: the start page, creating a project, a project's page and invitations."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import available_timezones

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.accounts.permissions import current_user, require_user
from forum.platform import Platform
from forum.projects import members, service
from forum.projects.permissions import Action, access_project
from forum.projects.schemas import ProjectIn
from forum.web.errors import UserError, invalid_from_pydantic
from forum.web.templating import flash, render

M = TypeVar("M", bound=BaseModel)


@functools.cache
def time_zones() -> tuple[str, ...]:
    """Suggestions for the time zone input (the input accepts any known zone)."""
    return tuple(sorted(available_timezones()))


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate the model's own fields of a form (a 422 naming the fields on failure)."""
    try:
        return model.model_validate({k: v for k, v in data.items() if k in model.model_fields})
    except ValidationError as exc:
        raise invalid_from_pydantic(exc) from None


# Pages


async def home(request: Request) -> Response:
    projects = await service.visible_projects(current_user(request))
    return await render(request, "projects/home.html", {"projects": projects})


NEW_PROJECT_DEFAULTS = {"slug": "", "name": "", "description": "", "legal_entity": "",
                        "contact_email": "", "time_zone": "UTC",
                        "default_visibility": "public"}


async def new_project(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    values: dict[str, str] = dict(NEW_PROJECT_DEFAULTS)
    if user.email:
        values["contact_email"] = user.email
    errors: dict[str, str] = {}
    message = ""
    status = 200
    if request.method == "POST":
        values = {**NEW_PROJECT_DEFAULTS, **await form_data(request)}
        try:
            data = parse(ProjectIn, values)
            project = await service.check_create_project(platform_of(request), user, data)
        except UserError as exc:
            errors, message, status = exc.fields, exc.message, exc.status
        else:
            flash(request, f'Project "{project.name}" created. You are its owner.', "success")
            return see_other(f"/p/{project.slug}")
    return await render(request, "projects/new.html", {
        "values": values, "errors": errors, "message": message, "time_zones": time_zones(),
    }, status_code=status)


async def leave_project(request: Request) -> Response:
    user = require_user(request)
    access = await access_project(user, request.path_params["slug"], Action.VIEW)
    await members.check_remove_member(platform_of(request), access, user, user.id)
    flash(request, f'You left "{access.project.name}".', "success")
    return see_other("/")


async def invitation_page(request: Request) -> Response:
    token = request.query_params.get("token", "")
    invitation = await members.access_invitation(token)
    return await render(request, "projects/invitation.html", {
        "invitation": invitation, "project": invitation.project, "token": token,
        "login_url": "/login?" + urlencode({"next": f"/invitations/accept?token={token}"}),
    })


async def accept_invitation(request: Request) -> Response:
    user = require_user(request)
    form = await form_data(request)
    project = await members.check_accept_invitation(platform_of(request), user,
                                                    form.get("token", ""))
    flash(request, f'Welcome to "{project.name}".', "success")
    return see_other(f"/p/{project.slug}")


def routes() -> list[BaseRoute]:
    return [
        Route("/", home, name="home"),
        Route("/projects/new", new_project, methods=["GET", "POST"], name="project_new"),
        Route("/p/{slug}/leave", leave_project, methods=["POST"], name="project_leave"),
        Route("/invitations/accept", invitation_page, name="invitation"),
        Route("/invitations/accept", accept_invitation, methods=["POST"],
              name="invitation_accept"),
    ]
