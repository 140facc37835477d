"""SLAs and business calendars: models, settings pages and API, the listeners that keep a
ticket's due times, and the breach-warning cron job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

from forum import events
from forum.hookspecs import CronDefinition, JobDefinition, hookimpl

if TYPE_CHECKING:
    from forum.jobs import JobContext

WARNING_JOB = "support.sla_warnings"
REFRESH_JOB = "support.sla_refresh"


@hookimpl
def forum_models() -> list[str]:
    return ["forum.support_queue.sla_models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.support_queue import sla_routes

    return sla_routes.routes()


async def warnings_job(ctx: JobContext) -> int:
    """Mail the warnings of due times coming within each project's lead."""
    from forum.support_queue.sla_warnings import send_warnings

    return len(await send_warnings(ctx.platform))


async def refresh_job(ctx: JobContext, project_id: int) -> int:
    """Recompute a project's due times after its calendar or SLA changed."""
    from forum.support_queue.sla import refresh_project

    return await refresh_project(project_id)


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition(WARNING_JOB, warnings_job, max_tries=3),
            JobDefinition(REFRESH_JOB, refresh_job, max_tries=3)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition(WARNING_JOB, minute=set(range(0, 60, 5)))]


async def _refresh(event: Any) -> None:
    from forum.support_queue.sla import refresh_ticket

    await refresh_ticket(event.ticket_id)


@hookimpl
async def on_ticket_submitted(event: events.TicketSubmitted) -> None:
    """The first response's clock starts."""
    await _refresh(event)


@hookimpl
async def on_ticket_state_changed(event: events.TicketStateChanged) -> None:
    """Waiting and on hold stop the clock; leaving them moves the due times later."""
    await _refresh(event)


@hookimpl
async def on_ticket_responded(event: events.TicketResponded) -> None:
    """A team response ends a clock; the requester's reaction after it starts the next."""
    await _refresh(event)
