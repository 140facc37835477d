"""Jinja2 pages: one environment per app, searched across the core's and plugins' folders.

``await render(request, "accounts/login.html", {...})`` adds what every page needs: the
user, the CSRF token, flash messages, the project switcher and plugin outlets.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from forum.plugins import PluginManager

WEB_DIR = Path(__file__).parent
FORUM_DIR = WEB_DIR.parent


def build_environment(plugins: PluginManager, *, auto_reload: bool = False) -> jinja2.Environment:
    """``auto_reload`` re-reads a template whose file changed (``FORUM_DEBUG``); off, a
    page costs no file-system calls."""
    dirs = [str(WEB_DIR / "templates")]
    dirs += [str(p) for p in sorted(FORUM_DIR.glob("*/templates")) if p.parent.name != "web"]
    dirs += [str(d) for d in plugins.collect("forum_template_dirs")]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=auto_reload,
    )
    outlets: dict[str, list[str]] = {}
    for mapping in plugins.collect("forum_template_outlets"):
        for outlet, template in mapping.items():
            outlets.setdefault(outlet, []).append(template)
    env.globals["outlet_templates"] = outlets
    return env


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    session = request.scope.get("session")
    if session is None:
        return ""
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


class LazyCsrfToken:
    """The CSRF token for templates, created only when a page prints it, so a page without
    a form (most anonymous visits) leaves the session, and its cookie, alone."""

    __slots__ = ("request",)

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf_token(self.request)

    def __html__(self) -> str:
        return csrf_token(self.request)

    def __bool__(self) -> bool:
        return "session" in self.request.scope


def flash(request: Request, message: str, category: str = "info") -> None:
    """Show ``message`` on the next page this browser loads."""
    request.session.setdefault("flash", []).append([category, message])
    request.session["flash"] = request.session["flash"]


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    if "session" not in request.scope:
        return []
    return [(c, m) for c, m in request.session.pop("flash", [])]


async def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    env: jinja2.Environment = request.app.state.templates
    user = getattr(request.state, "user", None)
    switcher: list[Any] = []
    if user is not None:
        from forum.projects.service import projects_for_switcher

        switcher = await projects_for_switcher(user)
    ctx: dict[str, Any] = {
        "request": request,
        "user": user,
        "csrf_token": LazyCsrfToken(request),
        "flashes": pop_flashes(request),
        "switcher_projects": switcher,
        "current_project": None,
        "settings": request.app.state.platform.settings,
        "url_for": request.url_for,
    }
    ctx.update(context or {})
    template = env.get_template(name)
    outlets: dict[str, list[str]] = env.globals["outlet_templates"]  # type: ignore[assignment]

    def outlet(name: str) -> Markup:
        return Markup("").join(
            Markup(env.get_template(t).render(ctx)) for t in outlets.get(name, []))

    ctx["outlet"] = outlet
    return HTMLResponse(template.render(ctx), status_code=status_code, headers=headers)
