"""Billing's jobs: ending a banned user's subscriptions, crediting a solved ticket's
helpers."""

from __future__ import annotations

from forum.billing.attribution import on_ticket_resolved
from forum.billing.bans import do_cancel_banned
from forum.hookspecs import JobDefinition
from forum.jobs import JobContext

CANCEL_BANNED = "billing.cancel_banned"
CREDIT_HELPERS = "billing.credit_helpers"


async def cancel_banned_job(ctx: JobContext, *, user_id: int,
                            project_id: int | None = None) -> None:
    await do_cancel_banned(ctx.platform, user_id, project_id)


async def credit_helpers_job(ctx: JobContext, *, project_id: int, ticket_id: int) -> None:
    await on_ticket_resolved(ctx.platform, project_id, ticket_id)


def definitions() -> list[JobDefinition]:
    return [JobDefinition(CANCEL_BANNED, cancel_banned_job, max_tries=8),
            JobDefinition(CREDIT_HELPERS, credit_helpers_job, max_tries=5)]
