"""The mail domain's registrations: the ``mail.send`` job (retried by the job runner) and
``forum mail-test``."""

from __future__ import annotations

import json
from typing import Any

import click

from forum.hookspecs import JobDefinition, hookimpl
from forum.jobs import JobContext
from forum.mail.outgoing import build_message, deliver, stable_message_id


async def send_mail(ctx: JobContext, *, to: str, subject: str, template: str,
                    context: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """Render and deliver one message; ``headers`` may thread it (In-Reply-To, References)."""
    platform = ctx.platform
    key = json.dumps([ctx.job_id, to, subject, template, context], sort_keys=True, default=str)
    message = build_message(platform.settings, platform.templates, to=to, subject=subject,
                            template=template, context=context, headers=headers,
                            message_id=stable_message_id(platform.settings, key))
    await deliver(platform.settings, message)


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition("mail.send", send_mail, max_tries=8)]


@hookimpl
def forum_cli(cli: click.Group) -> None:
    from forum.mail.commands import mail_test

    cli.add_command(mail_test)
