"""Billing's jobs: ending a banned user's subscriptions, crediting a solved ticket's
helpers, reminding both sides of tomorrow's consulting sessions (hourly), taking in Stripe
events the webhook missed (daily)."""

from __future__ import annotations

from forum.billing.attribution import on_ticket_resolved
from forum.billing.bans import do_cancel_banned
from forum.billing.catch_up import CRON_DAYS, catch_up
from forum.billing.consulting import send_reminders
from forum.hookspecs import CronDefinition, JobDefinition
from forum.jobs import JobContext

CANCEL_BANNED = "billing.cancel_banned"
CREDIT_HELPERS = "billing.credit_helpers"
CONSULTING_REMINDERS = "billing.consulting_reminders"
CATCH_UP = "billing.catch_up"


async def cancel_banned_job(ctx: JobContext, *, user_id: int,
                            project_id: int | None = None) -> None:
    await do_cancel_banned(ctx.platform, user_id, project_id)


async def credit_helpers_job(ctx: JobContext, *, project_id: int, ticket_id: int) -> None:
    await on_ticket_resolved(ctx.platform, project_id, ticket_id)


async def consulting_reminders_job(ctx: JobContext) -> None:
    await send_reminders(ctx.platform)


async def catch_up_job(ctx: JobContext, *, days: int = CRON_DAYS) -> None:
    if not ctx.platform.settings.stripe_api_key.get_secret_value():
        return  # payments are not set up
    report = await catch_up(ctx.platform, days)
    if report.failed:
        # Stripe could not be read for some: the job's retries (and tomorrow's run) try again.
        raise RuntimeError(f"{len(report.failed)} Stripe events not taken in: "
                           f"{report.failed[0]}")


def definitions() -> list[JobDefinition]:
    return [JobDefinition(CANCEL_BANNED, cancel_banned_job, max_tries=8),
            JobDefinition(CREDIT_HELPERS, credit_helpers_job, max_tries=5),
            JobDefinition(CONSULTING_REMINDERS, consulting_reminders_job, max_tries=3),
            JobDefinition(CATCH_UP, catch_up_job, max_tries=4)]


def cron() -> list[CronDefinition]:
    return [CronDefinition(CONSULTING_REMINDERS, minute={5}),
            CronDefinition(CATCH_UP, minute={17}, hour={4})]
