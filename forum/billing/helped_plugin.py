"""Registrations of the "helped" marks: the page, its API and the link on the ticket panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.billing.helped_routes import routes

    return routes()


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"ticket_panel": "billing/helped_panel_link.html"}
