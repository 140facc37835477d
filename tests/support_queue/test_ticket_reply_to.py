"""A ticket's emails to its requester carry their reply address for the ticket's topic and
keep the ticket's thread: answering the acknowledgement posts into the ticket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

import pytest

from forum.mail.inbound import receive_mail
from forum.mail.inbound_models import InboundStatus
from forum.mail.reply_tokens import REPLY_PREFIX, verify_reply_token
from forum.platform import Platform
from forum.support_queue.autoclose import run_autoclose
from forum.support_queue.models import Ticket, TicketState
from forum.topics.models import Post, Topic
from tests.mail.inbound_support import DOMAIN, INBOUND_SETTINGS, compose
from tests.support_queue.conftest import World, open_ticket

Mailbox = Callable[[], list[Any]]
RunJobs = Callable[[], Awaitable[int]]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(INBOUND_SETTINGS)


async def test_the_acknowledgement_can_be_answered_by_email(
        platform: Platform, app: Any, world: World, run_jobs: RunJobs,
        mailbox: Mailbox) -> None:
    ticket = await open_ticket(platform, world, is_private=True)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    await run_jobs()
    [ack] = [m for m in mailbox() if m["To"] == world.member.email]
    assert "We received your ticket" in ack["Subject"]
    address = parseaddr(str(ack["Reply-To"]))[1]
    local, _, domain = address.partition("@")
    assert domain == DOMAIN and local.startswith(REPLY_PREFIX)
    target = await verify_reply_token(platform.settings, local.removeprefix(REPLY_PREFIX),
                                      world.member.email)
    assert (target.kind, target.target_id, target.user_id) == ("topic", topic.id,
                                                                world.member.id)
    thread = f"<topic-{topic.id}@example.org>"
    assert (ack["In-Reply-To"], ack["References"]) == (thread, thread)

    answer = compose(sender=world.member.email, to=address, subject=f"Re: {ack['Subject']}",
                     text="I forgot: it happens on 2.4 only.\n\nOn Monday Forum wrote:\n> We\n")
    outcome = await receive_mail(platform, bytes(answer))
    assert outcome.status == InboundStatus.POSTED, outcome.reason
    last = await Post.filter(topic_id=topic.id).order_by("-number").first()
    assert last is not None and last.number == 2
    assert (last.author_id, last.source) == (world.member.id,  # type: ignore[attr-defined]
                                             "I forgot: it happens on 2.4 only.")
    # Someone else using the requester's address is refused.
    spoofed = await receive_mail(platform, bytes(compose(sender=world.outsider.email,
                                                         to=address, text="Me too.")))
    assert spoofed.status == InboundStatus.BOUNCED
    assert await Post.filter(topic_id=topic.id).count() == 2


async def test_the_autoclose_warning_keeps_the_thread_and_reply_address(
        platform: Platform, app: Any, world: World, run_jobs: RunJobs,
        mailbox: Mailbox) -> None:
    ticket = await open_ticket(platform, world)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    await run_jobs()
    before = len(mailbox())
    # Waiting on the requester, quiet for 28 days: the warning is due.
    quiet = datetime.now(UTC) - timedelta(days=28)
    await Ticket.filter(id=ticket.id).update(state=TicketState.WAITING, paused_at=quiet,
                                             submitted_at=quiet, created_at=quiet)
    await Topic.filter(id=topic.id).update(last_posted_at=quiet)
    run = await run_autoclose(platform, now=datetime.now(UTC))
    assert run.warned == [ticket.id]
    await run_jobs()
    warnings = [m for m in mailbox()[before:] if m["To"] == world.member.email]
    assert len(warnings) == 1
    address = parseaddr(str(warnings[0]["Reply-To"]))[1]
    target = await verify_reply_token(
        platform.settings, address.partition("@")[0].removeprefix(REPLY_PREFIX),
        world.member.email)
    assert (target.target_id, target.user_id) == (topic.id, world.member.id)
    assert warnings[0]["References"] == f"<topic-{topic.id}@example.org>"
