"""``create_app(settings)``: the whole web application, built from explicit settings."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from forum.accounts.middleware import AuthMiddleware
from forum.db import close_db, init_db
from forum.platform import Platform, build_platform
from forum.plugins import PluginManager
from forum.settings import Settings
from forum.web.errors import EXCEPTION_HANDLERS, render_error
from forum.web.middleware import (
    BodyLimitMiddleware,
    CSRFMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
)
from forum.web.ratelimit import close_limiter

log = logging.getLogger(__name__)

SESSION_COOKIE = "forum_session"
# Providers' inbound-mail webhooks: no CSRF token, and a body limit of their own.
INBOUND_MAIL_PATHS = ("/mail/inbound",)


def create_app(settings: Settings, *, plugins: PluginManager | None = None,
               platform: Platform | None = None) -> Starlette:
    platform = platform or build_platform(settings, plugins)
    routes = platform.plugins.collect("forum_routes")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await init_db(settings, platform.plugins, global_fallback=True)
        await platform.search.setup()
        if settings.run_embedded_worker or settings.redis_url:
            await platform.jobs.start(platform)
        try:
            yield
        finally:
            await platform.jobs.stop()
            await close_limiter(app)
            await close_db()

    async def csrf_rejected(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await render_error(
            request, 403, "The form has expired or did not come from this site. "
            "Go back, reload the page and try again.", code="csrf")
        await response(scope, receive, send)

    middleware = [
        Middleware(RequestLogMiddleware),
        Middleware(SecurityHeadersMiddleware, hsts=settings.public_url.startswith("https://")),
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes,
                   exempt_prefixes=INBOUND_MAIL_PATHS),
        Middleware(SessionMiddleware, secret_key=settings.secret(),
                   session_cookie=SESSION_COOKIE, max_age=settings.session_max_age_seconds,
                   same_site="lax", https_only=settings.public_url.startswith("https://")),
        Middleware(AuthMiddleware),
        Middleware(CSRFMiddleware, on_reject=csrf_rejected,
                   exempt_prefixes=("/webhooks/", *INBOUND_MAIL_PATHS)),
    ]
    app = Starlette(
        debug=False,
        routes=routes,
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.platform = platform
    app.state.templates = platform.templates
    return app
