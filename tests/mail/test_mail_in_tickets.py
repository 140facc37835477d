"""A reply by email lands in a ticket: tickets are topics, so a ticket's notification
carries a reply address and the reply goes through the topics' reply verb, where only the
requester and the team may write in a private ticket."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.utils import parseaddr
from typing import Any

import pytest

from forum.mail.inbound import receive_mail
from forum.mail.inbound_models import InboundStatus
from forum.mail.reply_tokens import reply_address
from forum.platform import Platform
from forum.topics.models import Post, Topic
from forum.topics.schemas import ReplyIn
from forum.topics.service import load_viewer, reply
from tests.mail.inbound_support import INBOUND_SETTINGS, compose
from tests.support_queue.conftest import open_ticket
from tests.topics.conftest import make_world

Mailbox = Callable[[], list[Any]]
RunJobs = Callable[[], Awaitable[int]]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(INBOUND_SETTINGS)


async def test_the_requester_answers_the_team_by_email(
        platform: Platform, app: Any, run_jobs: RunJobs, mailbox: Mailbox) -> None:
    world = await make_world()
    ticket = await open_ticket(platform, world, is_private=True)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    team = await load_viewer(world.supporter, world.project)
    await reply(platform, team, topic, ReplyIn(source="Which version do you run?"))
    await run_jobs()
    # The requester also got the queue's acknowledgement: the reply notification is the
    # one answering the team's post.
    [notification] = [m for m in mailbox() if m["To"] == world.member.email
                      and "Which version do you run?" in m.get_body(
                          preferencelist=("plain",)).get_content()]
    address = parseaddr(str(notification["Reply-To"]))[1]
    assert address.startswith("reply+")

    answer = compose(sender=world.member.email, to=address,
                     text="Version 2.4 on Debian.\n\nOn Monday the team wrote:\n> Which?\n")
    outcome = await receive_mail(platform, bytes(answer))
    assert outcome.status == InboundStatus.POSTED
    last = await Post.filter(topic_id=topic.id).order_by("-number").first()
    assert last is not None
    assert (last.author_id, last.source) == (world.member.id,  # type: ignore[attr-defined]
                                             "Version 2.4 on Debian.")
    assert outcome.url.endswith(f"/t/{topic.id}-{topic.slug}#post-{last.number}")

    # The team answers by email too.
    team_address = await reply_address(platform.settings, kind="topic", target_id=topic.id,
                                       user_id=world.supporter.id)
    assert team_address is not None
    outcome = await receive_mail(platform, bytes(compose(
        sender=world.supporter.email, to=team_address, text="Fixed in 2.5, please upgrade.")))
    assert outcome.status == InboundStatus.POSTED


async def test_nobody_else_writes_into_a_private_ticket_by_email(
        platform: Platform, app: Any, run_jobs: RunJobs, mailbox: Mailbox) -> None:
    world = await make_world()
    ticket = await open_ticket(platform, world, is_private=True)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    before = await Post.filter(topic_id=topic.id).count()
    # A member who is neither the requester nor on the team, with a genuine address of
    # their own for this topic (say the ticket was public when they were notified).
    outsider = world.outsider
    address = await reply_address(platform.settings, kind="topic", target_id=topic.id,
                                  user_id=outsider.id)
    assert address is not None
    outcome = await receive_mail(platform, bytes(compose(sender=outsider.email, to=address,
                                                         text="Let me in.")))
    assert (outcome.status, outcome.reason) == (InboundStatus.BOUNCED,
                                                "refused: No such topic.")
    # The requester's address used from the outsider's mailbox: refused too.
    requester_address = await reply_address(platform.settings, kind="topic",
                                            target_id=topic.id, user_id=world.member.id)
    assert requester_address is not None
    spoofed = await receive_mail(platform, bytes(compose(sender=outsider.email,
                                                         to=requester_address)))
    assert (spoofed.status, spoofed.reason) == (InboundStatus.BOUNCED,
                                                "cross_user reply token")
    assert await Post.filter(topic_id=topic.id).count() == before
    await run_jobs()
    bounces = [m for m in mailbox() if m["To"] == outsider.email]
    assert len(bounces) == 2
    assert all("nothing was published" in m.get_content() for m in bounces)
