"""The support queue's order: queue settings (model, page, API) and the team's view of the
queue in order (``GET /api/v1/projects/{slug}/queue``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


@hookimpl
def forum_models() -> list[str]:
    return ["forum.support_queue.queue_models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.support_queue.queue_routes import routes

    return routes()
