"""``forum mail-test ADDRESS``: check the outgoing mail settings by sending one message now."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiosmtplib
import click

from forum.cli import fail, pass_platform
from forum.mail.outgoing import build_message, deliver
from forum.platform import Platform


@click.command("mail-test")
@click.argument("address")
@pass_platform
def mail_test(platform: Platform, address: str) -> None:
    """Send a test message to ADDRESS now (not through the job queue) and report how it went."""
    settings = platform.settings
    message = build_message(
        settings, platform.templates, to=address,
        subject=f"Test message from {settings.platform_name}", template="test_message",
        context={"requested_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")})
    try:
        path = asyncio.run(deliver(settings, message))
    except (aiosmtplib.SMTPException, OSError) as exc:
        fail(f"sending through {settings.smtp_host}:{settings.smtp_port} failed: {exc}")
        return
    if path is not None:
        click.echo(f"no FORUM_SMTP_HOST set: the message was written to {path}")
    else:
        click.echo(f"sent to {address} through {settings.smtp_host}:{settings.smtp_port}")
