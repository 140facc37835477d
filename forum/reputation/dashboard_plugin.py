"""Reputation registrations (dashboard_plugin): the dashboard pages, their links on the
project home and the profile, and the reputation domain's own charts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from forum.charts import Chart


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.reputation.dashboard_routes import routes

    return routes()


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"project": "reputation/_dashboard_links.html",
            "user_profile": "reputation/_dashboard_profile_links.html"}


@hookimpl
async def forum_dashboard_panels(board: str, project_id: int, subject_user_id: int | None,
                                 months: int) -> list[Chart]:
    from forum.reputation.dashboard_panels import helper_panels, lead_panels

    if board == "helper" and subject_user_id is not None:
        return await helper_panels(project_id, subject_user_id, months)
    if board == "lead":
        return await lead_panels(project_id, months)
    return []
