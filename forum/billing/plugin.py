"""Billing registrations (plugin): models, the webhook, Connect and revenue pages, jobs,
and what billing does when tickets are submitted or solved and users are banned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from forum.hookspecs import CronDefinition, JobDefinition, hookimpl

if TYPE_CHECKING:
    import click
    from starlette.routing import BaseRoute

    from forum import events
    from forum.platform import Platform


@hookimpl
def forum_models() -> list[str]:
    return ["forum.billing.models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.billing import connect_routes, refund_routes, revenue_routes, webhook_routes

    return [*webhook_routes.routes(), *connect_routes.routes(), *revenue_routes.routes(),
            *refund_routes.routes()]


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    from forum.billing.jobs import definitions

    return definitions()


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.billing.commands import billing

    cli.add_command(billing)


@hookimpl
def forum_cron() -> list[CronDefinition]:
    from forum.billing.jobs import cron

    return cron()


@hookimpl
async def on_user_penalised(event: events.UserPenalised, platform: Platform) -> None:
    """A ban ends the user's subscriptions (the project's, or all on a platform ban)."""
    if event.kind != "ban":
        return
    from forum.billing.jobs import CANCEL_BANNED

    await platform.enqueue(CANCEL_BANNED, user_id=event.user_id, project_id=event.project)


@hookimpl
async def on_ticket_submitted(event: events.TicketSubmitted, platform: Platform) -> None:
    """An enterprise subscriber's ticket gets the enterprise tier and promised times."""
    from forum.billing.worth import include_enterprise_ticket

    await include_enterprise_ticket(platform, event.project, event.ticket_id,
                                    event.requester_id)


@hookimpl
async def on_ticket_resolved(event: events.TicketResolved, platform: Platform) -> None:
    """A solved ticket that was paid for credits its helpers (a job)."""
    from forum.billing.jobs import CREDIT_HELPERS
    from forum.billing.models import LedgerEntry

    if await LedgerEntry.exists(project_id=event.project, ticket_id=event.ticket_id):
        await platform.enqueue(CREDIT_HELPERS, project_id=event.project,
                               ticket_id=event.ticket_id)
