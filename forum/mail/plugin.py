"""The mail domain's registrations: the ``mail.send`` job (retried by the job runner)."""

from __future__ import annotations

from typing import Any

from forum.hookspecs import JobDefinition, hookimpl
from forum.jobs import JobContext
from forum.mail.outgoing import build_message, deliver


async def send_mail(ctx: JobContext, *, to: str, subject: str, template: str,
                    context: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    platform = ctx.platform
    message = build_message(platform.settings, platform.templates, to=to, subject=subject,
                            template=template, context=context, headers=headers)
    await deliver(platform.settings, message)


@hookimpl
def forum_jobs() -> list[JobDefinition]:
    return [JobDefinition("mail.send", send_mail, max_tries=8)]
