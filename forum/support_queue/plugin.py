"""The support queue's registrations: models, pages and API, the listeners that keep a
ticket's response times and acknowledge submissions, and demo tickets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from forum import events
    from forum.platform import Platform


@hookimpl
def forum_models() -> list[str]:
    return ["forum.support_queue.models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.support_queue import api_routes, routes

    return [*api_routes.routes(), *routes.routes()]


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"project": "support_queue/_project_links.html"}


@hookimpl
async def on_topic_created(event: events.TopicCreated, platform: Platform) -> None:
    """A ticket started through the ordinary composer gets its ticket record."""
    if event.kind != "ticket":
        return
    from forum.support_queue.tickets import adopt_ticket_topic

    await adopt_ticket_topic(platform, event)


@hookimpl
async def on_post_created(event: events.PostCreated, platform: Platform) -> None:
    from forum.support_queue.responses import record_post

    await record_post(platform, event)


@hookimpl
async def on_ticket_submitted(event: events.TicketSubmitted, platform: Platform) -> None:
    from forum.support_queue.acknowledge import send_acknowledgement

    await send_acknowledgement(platform, event.ticket_id)


@hookimpl(trylast=True)  # after the topics domain, which seeds only an empty project
async def forum_demo(platform: Platform, project_id: int, user_ids: dict[str, int]
                     ) -> list[str]:
    from forum.support_queue.demo import seed_tickets

    return await seed_tickets(platform, project_id, user_ids)
