"""Incoming mail's registrations: its tables, its pages (``POST /mail/inbound``,
``/admin/mail``, revoking reply addresses), ``forum mail-in`` and the nightly job that
forgets old messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from forum.hookspecs import CronDefinition, JobDefinition, hookimpl
from forum.jobs import JobContext

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

PRUNE_JOB = "mail.forget_old_inbound"


async def forget_old_inbound(ctx: JobContext) -> None:
    from forum.mail.inbound import forget_old_messages

    await forget_old_messages(ctx.platform)


@hookimpl
def forum_models() -> list[str]:
    return ["forum.mail.inbound_models"]


@hookimpl
def forum_routes() -> list[BaseRoute]:
    from forum.mail.inbound_routes import routes

    return routes()


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.mail.smtp_server import mail_in

    cli.add_command(mail_in)


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition(PRUNE_JOB, forget_old_inbound)]


@hookimpl
def forum_cron() -> list[CronDefinition]:
    return [CronDefinition(PRUNE_JOB, minute={17}, hour={3})]
