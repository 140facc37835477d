"""The web shell's own routes: static files, /healthz and the OpenAPI document."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from tortoise import connections

from forum.hookspecs import hookimpl
from forum.web.api import openapi_document
from forum.web.templating import WEB_DIR


async def healthz(request: Request) -> JSONResponse:
    """Liveness for load balancers: is the database reachable, how long is the job backlog."""
    platform = request.app.state.platform
    database_ok = True
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        database_ok = False
    backlog: int | None = None
    try:
        backlog = await platform.jobs.backlog()
    except Exception:
        backlog = None
    ok = database_ok and backlog is not None
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "database": database_ok, "jobs_backlog": backlog,
         "jobs_runner": type(platform.jobs).__name__},
        status_code=200 if ok else 503,
    )


async def openapi_json(request: Request) -> JSONResponse:
    settings = request.app.state.platform.settings
    return JSONResponse(openapi_document(request.app.routes, settings.platform_name))


@hookimpl
def forum_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, name="healthz"),
        Route("/api/v1/openapi.json", openapi_json, name="openapi"),
        Mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static"),
    ]
