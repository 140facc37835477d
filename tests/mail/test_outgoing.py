"""Outgoing mail over SMTP: the ``mail.send`` job against a real aiosmtpd server."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import pytest

from forum.jobs import JobContext
from forum.jobs.models import Job, JobState
from forum.mail.outgoing import build_message
from forum.mail.plugin import send_mail
from forum.platform import Platform
from tests.smtp import SMTPServer, free_port

RunJobs = Callable[[], Awaitable[int]]
CONTEXT = {"name": "Ada", "thing": "<b>bold</b> & co", "thing_id": 42}


@pytest.fixture
def settings_overrides(smtp_server: SMTPServer) -> dict[str, Any]:
    return {"smtp_host": smtp_server.host, "smtp_port": smtp_server.port,
            "mail_from": "Help Desk <help@forum.example>", "platform_name": "Acme Forum"}


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


async def test_mail_send_job_delivers_multipart_message(
    db: None, mail_platform: Platform, run_jobs: RunJobs, smtp_server: SMTPServer
) -> None:
    await mail_platform.send_mail("ada@example.org", "test_notice", CONTEXT,
                                  subject="Your thing is ready")
    assert smtp_server.received == []  # queued, not sent inline
    assert await run_jobs() == 1

    [mail] = await smtp_server.await_for(1)
    assert mail.mail_from == "help@forum.example"
    assert mail.rcpt_tos == ["ada@example.org"]
    message = mail.message
    assert parseaddr(message["From"]) == ("Help Desk", "help@forum.example")
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Your thing is ready"
    assert re.fullmatch(r"<[0-9a-f]{32}@forum\.example>", message["Message-ID"])
    assert message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    bodies = parts(message)
    assert list(bodies) == ["text/plain", "text/html"]
    text = bodies["text/plain"]
    assert 'Your thing "<b>bold</b> & co" is ready: http://testserver/things/42' in text
    assert "\n-- \nAcme Forum · http://testserver" in text  # the mail/base.txt footer
    html = bodies["text/html"]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html  # escaped in HTML only
    assert '<a href="http://testserver/things/42">ready</a>' in html
    assert "<title>Your thing is ready</title>" in html
    [job] = await Job.all()
    assert job.state == JobState.DONE


async def test_text_only_template_sends_a_single_part(
    db: None, mail_platform: Platform, run_jobs: RunJobs, smtp_server: SMTPServer
) -> None:
    await mail_platform.send_mail("bob@example.org", "test_plain", {"name": "Bob"},
                                  subject="Plain")
    await run_jobs()
    [mail] = await smtp_server.await_for(1)
    assert mail.message.get_content_type() == "text/plain"
    assert mail.message.get_content() == "Just text for Bob.\n"


async def test_thread_headers_are_set(
    db: None, mail_platform: Platform, run_jobs: RunJobs, smtp_server: SMTPServer
) -> None:
    await mail_platform.send_mail("ada@example.org", "test_plain", {"name": "Ada"},
                                  subject="Re: a question",
                                  headers={"In-Reply-To": "<first@forum.example>"})
    await mail_platform.enqueue(
        "mail.send", to="ada@example.org", subject="Re: a question", template="test_plain",
        context={"name": "Ada"},
        headers={"In-Reply-To": "<second@forum.example>",
                 "References": "<first@forum.example> <second@forum.example>"})
    await run_jobs()
    first, second = (m.message for m in await smtp_server.await_for(2))
    assert first["In-Reply-To"] == "<first@forum.example>"
    assert first["References"] == "<first@forum.example>"
    assert second["In-Reply-To"] == "<second@forum.example>"
    assert second["References"] == "<first@forum.example> <second@forum.example>"


def test_platform_headers_cannot_be_replaced(mail_platform: Platform) -> None:
    with pytest.raises(ValueError, match="From"):
        build_message(mail_platform.settings, mail_platform.templates, to="a@example.org",
                      subject="s", template="test_plain", context={"name": "A"},
                      headers={"From": "ceo@bank.example"})


async def test_message_id_is_the_same_on_every_try_of_a_job(
    mail_platform: Platform, smtp_server: SMTPServer
) -> None:
    async def send(job_id: str, attempt: int) -> str:
        await send_mail(JobContext(mail_platform, job_id, attempt), to="ada@example.org",
                        subject="Hi", template="test_plain", context={"name": "Ada"})
        return str(smtp_server.received[-1].message["Message-ID"])

    first = await send("17", 1)
    assert await send("17", 2) == first  # a retry: clients see one message
    assert await send("18", 1) != first  # another job: another message


async def test_smtp_server_down_retries_then_fails_visibly(
    db: None, mail_platform: Platform, run_jobs: RunJobs
) -> None:
    mail_platform.settings.smtp_port = free_port()  # nothing listens there
    await mail_platform.send_mail("ada@example.org", "test_plain", {"name": "Ada"},
                                  subject="Lost?")
    [job] = await Job.all()
    assert job.max_tries == 8
    seen_attempts: list[int] = []
    deadline = time.monotonic() + 30
    while job.state != JobState.FAILED and time.monotonic() < deadline:
        await run_jobs()
        await job.refresh_from_db()
        if not seen_attempts or seen_attempts[-1] != job.attempts:
            seen_attempts.append(job.attempts)
        await asyncio.sleep(0.01)
    assert job.state == JobState.FAILED
    # Retried with growing delays, not failed at once (a slow machine may see the first
    # quick retries within one run).
    assert len(seen_attempts) >= 2 and seen_attempts[-1] == 8
    assert job.attempts == 8
    assert "SMTPConnectError" in job.last_error
    assert "Traceback" in job.last_error
    assert job.finished_at is not None
