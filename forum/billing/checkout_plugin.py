"""Billing's customer side: plans and prices, buyer profiles, checkout, the customer's
billing pages, the "Upgrade priority" link on the ticket panel, and demo plans."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from forum.platform import Platform



@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.billing import checkout_routes, consulting_routes, customer_routes, plan_routes

    return [*plan_routes.routes(), *checkout_routes.routes(), *customer_routes.routes(),
            *consulting_routes.routes()]


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"project": "billing/_project_links.html",
            "ticket_panel": "billing/_ticket_upgrade_link.html",
            "user_profile": "billing/_profile_links.html"}


@hookimpl(trylast=True)  # after the project and its tickets exist
async def forum_demo(platform: Platform, project_id: int, user_ids: dict[str, int]
                     ) -> list[str]:
    from forum.billing.demo import seed_history, seed_plans

    return [*await seed_plans(project_id), *await seed_history(platform, project_id, user_ids)]
