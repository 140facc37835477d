"""Outgoing mail: render a template pair, then send over SMTP or write a file.

With no ``FORUM_SMTP_HOST`` the message is written to ``<data_dir>/mail/*.eml`` so a
developer can read what would have been sent.
"""

from __future__ import annotations

import time
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import jinja2

from forum.settings import Settings


def build_message(settings: Settings, env: jinja2.Environment, *, to: str, subject: str,
                  template: str, context: dict[str, Any],
                  headers: dict[str, str] | None = None) -> EmailMessage:
    ctx = {"settings": settings, "base_url": settings.public_url, **context}
    text = env.get_template(f"mail/{template}.txt").render(ctx)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    try:
        html = env.get_template(f"mail/{template}.html").render(ctx)
    except jinja2.TemplateNotFound:
        html = None
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


async def deliver(settings: Settings, message: EmailMessage) -> Path | None:
    """Send ``message``; returns the file written when no SMTP server is configured."""
    if not settings.smtp_host:
        settings.mail_dir.mkdir(parents=True, exist_ok=True)
        path = settings.mail_dir / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(message))
        return path
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=settings.smtp_password.get_secret_value() or None,
        start_tls=settings.smtp_starttls,
        use_tls=settings.smtp_use_tls,
        timeout=30,
    )
    return None
