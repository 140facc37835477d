"""The project's GitHub page (``/p/<slug>/github``, owners and leads): the linked
repositories, a form to link one (token or GitHub App), a "Check" button that asks GitHub
whether the credentials reach the repository and a webhook points here, and unlinking.
The bridge's options (private drafts, locking, the comment template ...) are the plugin's
settings form on the project's settings page."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from forum.projects.permissions import Action, ProjectAccess, access_project
from forum.web.errors import NotFound, UserError, invalid_from_pydantic
from forum.web.templating import flash, render
from plugins.github_import.connection import (
    CheckResult,
    LinkIn,
    check_connection,
    check_link,
    describe,
    do_unlink,
    webhook_url,
)
from plugins.github_import.models import Connection

LINK_FIELDS = tuple(LinkIn.model_fields)


async def access_github_settings(request: Request) -> ProjectAccess:
    """The project, for one of its owners or leads (403 others, 404 unknown/hidden)."""
    return await access_project(request.state.user, request.path_params["slug"],
                                Action.MANAGE_PLUGINS)


async def access_connection(access: ProjectAccess, connection_id: str) -> Connection:
    found = None
    if connection_id.isdigit():
        found = await Connection.get_or_none(id=int(connection_id),
                                             project_id=access.project.id)
    if found is None:
        raise NotFound("No such linked repository in this project.")
    return found


async def _page(request: Request, access: ProjectAccess, *, status: int = 200,
                form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                message: str = "", checked: tuple[int, CheckResult] | None = None
                ) -> Response:
    rows = await Connection.filter(project_id=access.project.id).order_by("repo")
    platform = request.app.state.platform
    response = await render(request, "github_import/settings.html", {
        "project": access.project, "connections": [describe(r) for r in rows],
        "form": form or {}, "errors": errors or {}, "message": message,
        "checked_id": checked[0] if checked else None,
        "checked": checked[1] if checked else None,
        "webhook_url": webhook_url(platform)})
    response.status_code = status
    return response


async def settings_page(request: Request) -> Response:
    access = await access_github_settings(request)
    return await _page(request, access)


async def link_repo(request: Request) -> Response:
    access = await access_github_settings(request)
    raw = await request.form()
    form = {name: str(raw.get(name, "")) for name in LINK_FIELDS}
    shown = {k: v for k, v in form.items()
             if k not in ("token", "private_key", "webhook_secret")}
    try:
        data = LinkIn.model_validate({k: v for k, v in form.items() if v != ""})
        await check_link(request.app.state.platform, access.project.id, data)
    except ValidationError as exc:
        invalid = invalid_from_pydantic(exc)
        return await _page(request, access, status=422, form=shown, errors=invalid.fields,
                           message=invalid.message)
    except UserError as exc:
        return await _page(request, access, status=exc.status, form=shown, errors=exc.fields,
                           message=exc.message)
    flash(request, f"Linked {data.repo}. Press Check to test it with GitHub.", "success")
    return RedirectResponse(f"/p/{access.project.slug}/github", 303)


async def check_repo(request: Request) -> Response:
    access = await access_github_settings(request)
    connection = await access_connection(access, request.path_params["connection_id"])
    result = await check_connection(request.app.state.platform, connection)
    return await _page(request, access, checked=(connection.id, result))


async def unlink_repo(request: Request) -> Response:
    access = await access_github_settings(request)
    connection = await access_connection(access, request.path_params["connection_id"])
    await do_unlink(connection)
    flash(request, f"Unlinked {connection.repo}.", "success")
    return RedirectResponse(f"/p/{access.project.slug}/github", 303)


def routes() -> list[BaseRoute]:
    base = "/p/{slug}/github"
    return [
        Route(base, settings_page, methods=["GET"], name="github_import_settings"),
        Route(base, link_repo, methods=["POST"], name="github_import_link"),
        Route(base + "/{connection_id}/check", check_repo, methods=["POST"],
              name="github_import_check"),
        Route(base + "/{connection_id}/unlink", unlink_repo, methods=["POST"],
              name="github_import_unlink"),
    ]


__all__ = ["routes", "settings_page"]
