"""Outgoing mail: render a template pair, then send over SMTP or write a file.

A message is rendered from ``mail/<template>.txt`` and, when it exists,
``mail/<template>.html`` (found in any ``templates/`` folder of the core or a plugin); both
see the caller's context plus ``settings``, ``base_url``, ``platform_name`` and
``subject``. Templates usually extend ``mail/base.txt`` / ``mail/base.html`` and fill the
``body`` block, so every mail carries the same greeting-free layout and footer.

With no ``FORUM_SMTP_HOST`` the message is written to ``<data_dir>/mail/*.eml`` so a
developer can read what would have been sent; ``forum serve`` says so when it starts.
Sending is the ``mail.send`` job (``forum.mail.plugin``), so a failed delivery is retried.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import aiosmtplib
import jinja2

from forum.settings import Settings


def mail_domain(settings: Settings) -> str:
    """The domain of the sender address, used on the right of Message-IDs."""
    address = parseaddr(settings.mail_from)[1]
    return address.rpartition("@")[2] or "localhost"


def sender(settings: Settings) -> str:
    """``FORUM_MAIL_FROM``, given the platform's name when it has no display name."""
    name, address = parseaddr(settings.mail_from)
    return formataddr((name or settings.platform_name, address or settings.mail_from))


def stable_message_id(settings: Settings, key: str) -> str:
    """A Message-ID derived from ``key`` and the secret: the same on every retry of a job.

    If a delivery reached the server but the job died before it was recorded as done, the
    retry sends the same Message-ID, which mail clients treat as one message.
    """
    digest = hmac.new(settings.secret().encode(), key.encode(), hashlib.sha256).hexdigest()
    return f"<{digest[:32]}@{mail_domain(settings)}>"


def build_message(settings: Settings, env: jinja2.Environment, *, to: str, subject: str,
                  template: str, context: dict[str, Any],
                  headers: dict[str, str] | None = None,
                  message_id: str | None = None) -> EmailMessage:
    ctx = {"settings": settings, "base_url": settings.public_url,
           "platform_name": settings.platform_name, "subject": subject, **context}
    text = env.get_template(f"mail/{template}.txt").render(ctx)
    try:
        html: str | None = env.get_template(f"mail/{template}.html").render(ctx)
    except jinja2.TemplateNotFound:
        html = None
    message = EmailMessage()
    message["From"] = sender(settings)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(domain=mail_domain(settings))
    # Automatic mail: out-of-office responders must not answer it (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        if name.lower() in {"from", "to", "subject", "date", "message-id"}:
            raise ValueError(f"header {name!r} is set by the platform")
        message[name] = value
    if "In-Reply-To" in message and "References" not in message:
        # Clients thread by References first; a reply to one message references it.
        message["References"] = message["In-Reply-To"]
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


async def deliver(settings: Settings, message: EmailMessage) -> Path | None:
    """Send ``message``; returns the file written when no SMTP server is configured."""
    if not settings.smtp_host:
        settings.mail_dir.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        partial = settings.mail_dir / f".{name}.tmp"
        partial.write_bytes(bytes(message))
        path = settings.mail_dir / f"{name}.eml"
        os.replace(partial, path)  # a reader never sees half a message
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
