"""The platform admin's pages: platform settings, every project, how many users."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from forum.accounts.models import User
from forum.accounts.permissions import current_user, require_user
from forum.projects import service
from forum.projects.routes import (
    form_data,
    login_redirect,
    parse,
    platform_of,
    see_other,
)
from forum.projects.schemas import PlatformSettingsIn
from forum.web.errors import Forbidden, UserError
from forum.web.templating import flash, render


def require_admin(user: User) -> User:
    if not user.is_platform_admin:
        raise Forbidden("Only platform admins may open this page.")
    return user


async def render_admin(request: Request, user: User, *, fee: str | None = None,
                       errors: dict[str, str] | None = None, message: str = "",
                       status: int = 200) -> Response:
    platform = platform_of(request)
    return await render(request, "projects/admin.html", {
        "fee": fee if fee is not None else str(await service.platform_fee_percent(platform)),
        "errors": errors or {},
        "message": message,
        "projects": await service.visible_projects(user),
        "users_count": await User.all().count(),
    }, status_code=status)


async def admin_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return login_redirect(request)
    return await render_admin(request, require_admin(user))


async def save_platform_settings(request: Request) -> Response:
    user = require_admin(require_user(request))
    form = await form_data(request)
    try:
        data = parse(PlatformSettingsIn, form)
        await service.check_set_platform_fee(platform_of(request), user,
                                             data.platform_fee_percent)
    except UserError as exc:
        if exc.status != 422:
            raise
        return await render_admin(request, user, fee=form.get("platform_fee_percent", ""),
                                  errors=exc.fields, message=exc.message, status=422)
    flash(request, f"Platform fee set to {data.platform_fee_percent}%.", "success")
    return see_other("/admin")


def routes() -> list[BaseRoute]:
    return [
        Route("/admin", admin_page, name="admin"),
        Route("/admin/settings", save_platform_settings, methods=["POST"],
              name="admin_settings"),
    ]
