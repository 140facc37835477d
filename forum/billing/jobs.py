"""Billing's jobs: ending a banned user's subscriptions, crediting a solved ticket's
helpers, reminding both sides of tomorrow's consulting sessions (hourly)."""

from __future__ import annotations

from forum.billing.attribution import on_ticket_resolved
from forum.billing.bans import do_cancel_banned
from forum.billing.consulting import send_reminders
from forum.hookspecs import CronDefinition, JobDefinition
from forum.jobs import JobContext

CANCEL_BANNED = "billing.cancel_banned"
CREDIT_HELPERS = "billing.credit_helpers"
CONSULTING_REMINDERS = "billing.consulting_reminders"


async def cancel_banned_job(ctx: JobContext, *, user_id: int,
                            project_id: int | None = None) -> None:
    await do_cancel_banned(ctx.platform, user_id, project_id)


async def credit_helpers_job(ctx: JobContext, *, project_id: int, ticket_id: int) -> None:
    await on_ticket_resolved(ctx.platform, project_id, ticket_id)


async def consulting_reminders_job(ctx: JobContext) -> None:
    await send_reminders(ctx.platform)


def definitions() -> list[JobDefinition]:
    return [JobDefinition(CANCEL_BANNED, cancel_banned_job, max_tries=8),
            JobDefinition(CREDIT_HELPERS, credit_helpers_job, max_tries=5),
            JobDefinition(CONSULTING_REMINDERS, consulting_reminders_job, max_tries=3)]


def cron() -> list[CronDefinition]:
    return [CronDefinition(CONSULTING_REMINDERS, minute={5})]
