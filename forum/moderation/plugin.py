"""The moderation domain's registrations for flags, the review queue and spam defences:
models, pages and API, the screener and posting limits, and the topics events that fill
and empty the queue. (Penalties, the audit log and terms register in
``penalties_plugin``.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forum.hookspecs import CronDefinition, JobDefinition, hookimpl

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from forum import events, gates
    from forum.platform import Platform


@hookimpl
def forum_models() -> list[str]:
    return ["forum.moderation.models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.moderation.routes import routes

    return routes()


@hookimpl
def forum_template_outlets() -> dict[str, str]:
    return {"user_profile": "moderation/_profile_flag.html"}


async def _prune_traces(ctx: Any) -> None:
    from forum.moderation.spam import prune_traces

    await prune_traces()


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition("moderation.prune_traces", _prune_traces)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition("moderation.prune_traces", minute={17}, hour={3})]


@hookimpl
async def forum_refuse(attempt: gates.Attempt) -> str | None:
    from forum.moderation.spam import refusal

    return await refusal(attempt)


@hookimpl
async def forum_screen_post(draft: gates.Draft, platform: Platform) -> gates.Screening | None:
    from forum.moderation.spam import screen

    return await screen(draft, platform)


@hookimpl
async def on_post_hidden(event: events.PostHidden) -> None:
    from forum.moderation.review import on_post_hidden as queue_hidden

    await queue_hidden(event)


@hookimpl
async def on_post_unhidden(event: events.PostUnhidden) -> None:
    from forum.moderation.review import on_post_unhidden as approved_elsewhere

    await approved_elsewhere(event)


@hookimpl
async def on_post_deleted(event: events.PostDeleted) -> None:
    from forum.moderation.review import on_post_deleted as leave_queue

    await leave_queue(event)
