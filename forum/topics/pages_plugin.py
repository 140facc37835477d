"""Hook implementations of the topics domain's read side: pages, feeds and the read API
(the write side registers in forum/topics/plugin.py)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from forum.hookspecs import hookimpl


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.topics import feeds, form_routes, read_api, routes

    return [*form_routes.routes(), *routes.routes(), *feeds.routes(), *read_api.routes()]
