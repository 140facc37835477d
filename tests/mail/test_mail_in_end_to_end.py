"""End to end: a notification email carries a reply address; answering it through the
real ``forum mail-in`` SMTP server puts the answer on the topic page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

import aiosmtplib
import httpx
import pytest

from forum.mail.smtp_server import start_mail_in
from forum.platform import Platform
from forum.topics.schemas import ReplyIn
from forum.topics.service import load_viewer, reply
from tests.mail.inbound_support import DOMAIN, INBOUND_SETTINGS, make_scene
from tests.smtp import free_port

Mailbox = Callable[[], list[Any]]
RunJobs = Callable[[], Awaitable[int]]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(INBOUND_SETTINGS)


async def test_replying_to_a_notification_email_posts_on_the_topic(
        platform: Platform, app: Any, client: httpx.AsyncClient, run_jobs: RunJobs,
        mailbox: Mailbox) -> None:
    scene = await make_scene(platform)
    supporter = scene.world.supporter
    viewer = await load_viewer(supporter, scene.world.project)
    await reply(platform, viewer, scene.topic,
                ReplyIn(source="Have you tried turning strict mode on?"))
    await run_jobs()
    [notification] = [m for m in mailbox() if m["To"] == scene.author.email]
    reply_to = parseaddr(str(notification["Reply-To"]))[1]
    assert reply_to.startswith("reply+") and reply_to.endswith(f"@{DOMAIN}")
    thread = f"<topic-{scene.topic.id}@example.org>"
    assert notification["References"] == thread
    assert notification["In-Reply-To"] == thread
    text = notification.get_body(preferencelist=("plain",)).get_content()
    assert "Reply to this email to post your answer in the topic." in text

    # The member answers from their mail client, quoting the notification.
    answer = EmailMessage()
    answer["From"] = f"Member <{scene.author.email}>"
    answer["To"] = str(notification["Reply-To"])
    answer["Subject"] = f"Re: {notification['Subject']}"
    answer["In-Reply-To"] = notification["Message-ID"]
    answer["References"] = f"{thread} {notification['Message-ID']}"
    quoted = "\n".join(f"> {line}" for line in text.splitlines())
    answer.set_content("Yes, strict mode fixed it. Thank you!\n\n"
                       f"On Monday, Forum <forum@example.org> wrote:\n{quoted}\n")
    port = free_port()
    server = await start_mail_in(platform, "127.0.0.1", port)
    try:
        errors, response = await aiosmtplib.send(answer, hostname="127.0.0.1", port=port)
    finally:
        server.close()
        await server.wait_closed()
    assert errors == {}
    assert response.startswith("2.0.0 Posted")

    page = await client.get(f"/p/{scene.world.project.slug}/t/{scene.topic.id}-"
                            f"{scene.topic.slug}")
    assert page.status_code == 200
    assert "Yes, strict mode fixed it. Thank you!" in page.text
    assert "Have you tried turning strict mode on?" in page.text
    assert page.text.count("Reply to this email") == 0  # the quote was left out


async def test_no_reply_address_while_mail_in_is_off(
        platform: Platform, app: Any, run_jobs: RunJobs, mailbox: Mailbox) -> None:
    platform.settings.mail_in_domain = ""
    scene = await make_scene(platform)
    viewer = await load_viewer(scene.world.supporter, scene.world.project)
    await reply(platform, viewer, scene.topic, ReplyIn(source="An answer for you."))
    await run_jobs()
    [notification] = [m for m in mailbox() if m["To"] == scene.author.email]
    assert notification["Reply-To"] is None
    text = notification.get_body(preferencelist=("plain",)).get_content()
    assert "Reply to this email" not in text
