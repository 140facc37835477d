"""Mail to ``support+<project>@`` opens a draft ticket for a known sender and answers with
the link to submit it; strangers, unknown projects and members-only projects get a bounce
and nothing is created."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from forum import events
from forum.mail.inbound import receive_mail
from forum.mail.inbound_models import InboundStatus
from forum.platform import Platform
from forum.projects.models import Visibility
from forum.support_queue.mail_plugin import ticket_title
from forum.support_queue.models import SupportSettings, Ticket, TicketSource, TicketState
from forum.support_queue.tickets import check_submit, chosen_privacy, do_submit
from forum.topics.models import Post, Topic
from tests.factories import make_user
from tests.mail.inbound_support import DOMAIN, INBOUND_SETTINGS, compose
from tests.support_queue.conftest import World, emitted

Mailbox = Callable[[], list[Any]]
RunJobs = Callable[[], Awaitable[int]]

__all__ = ["emitted"]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return dict(INBOUND_SETTINGS)


def plain(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


async def test_a_known_sender_gets_a_draft_and_the_link_to_submit_it(
        platform: Platform, app: Any, world: World, emitted: list[events.Event],
        run_jobs: RunJobs, mailbox: Mailbox) -> None:
    sender = world.outsider  # any verified user may ask for help, member or not
    message = compose(sender=f"Someone <{sender.email.upper()}>",
                      to=f"SUPPORT+{world.project.slug.upper()}@{DOMAIN}",
                      subject="Fwd:  Uploads   stall at 99%",
                      text="Uploads stall at 99 percent.\n\n-- \nSent from my phone\n")
    outcome = await receive_mail(platform, bytes(message))
    assert outcome.status == InboundStatus.POSTED, outcome.reason
    ticket = await Ticket.get(project_id=world.project.id)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    assert (ticket.state, ticket.source, ticket.requester_id,  # type: ignore[attr-defined]
            ticket.submitted_at) == (TicketState.DRAFT, TicketSource.EMAIL, sender.id, None)
    assert (topic.title, topic.is_private) == ("Uploads stall at 99%", True)
    opening = await Post.get(topic_id=topic.id, number=1)
    assert (opening.source, opening.author_id) == (  # type: ignore[attr-defined]
        "Uploads stall at 99 percent.", sender.id)
    url = f"http://testserver/p/{world.project.slug}/t/{topic.id}-{topic.slug}"
    assert outcome.url == url
    # A draft: not announced, so no acknowledgement and no alert to the team.
    assert not [e for e in emitted if isinstance(e, events.TicketSubmitted | events.TopicCreated)]
    await run_jobs()
    [answer] = mailbox()
    reference = f"{world.project.slug.upper()}-1"
    assert answer["To"] == sender.email
    assert answer["Subject"] == f"[{reference}] Please confirm your ticket: Uploads stall at 99%"
    assert answer["In-Reply-To"] == message["Message-ID"]
    assert answer["Reply-To"] is None
    body = plain(answer)
    assert url in body and "submit it" in body and reference in body

    # The same message delivered again opens nothing more.
    again = await receive_mail(platform, bytes(message))
    assert (again.status, again.reason) == (InboundStatus.DROPPED,
                                            "duplicate of a posted message")
    assert await Ticket.filter(project_id=world.project.id).count() == 1


async def test_the_projects_private_default_is_kept_for_submission(
        platform: Platform, app: Any, world: World) -> None:
    await SupportSettings.create(project_id=world.project.id, private_by_default=False)
    outcome = await receive_mail(platform, bytes(compose(
        sender=world.member.email, to=f"support+{world.project.slug}@{DOMAIN}",
        subject="", text="The parser crashes on empty input.")))
    assert outcome.status == InboundStatus.POSTED, outcome.reason
    ticket = await Ticket.get(project_id=world.project.id)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    assert topic.title == f"Support request from {world.member.username} by email"
    assert (topic.is_private, chosen_privacy(topic)) == (True, False)
    viewer = await world.viewer(world.member)
    await check_submit(platform, viewer, ticket, topic)
    await do_submit(platform, viewer, ticket, topic)
    await topic.refresh_from_db()
    await ticket.refresh_from_db()
    assert (ticket.state, topic.is_private) == (TicketState.QUEUED, False)

    await SupportSettings.filter(project_id=world.project.id).update(private_by_default=True)
    await receive_mail(platform, bytes(compose(
        sender=world.member.email, to=f"support+{world.project.slug}@{DOMAIN}",
        subject="Second problem", text="Another crash.")))
    second = await Topic.get(project_id=world.project.id, title="Second problem")
    assert chosen_privacy(second) is True


async def test_an_unknown_sender_is_asked_to_sign_up(
        platform: Platform, app: Any, world: World, run_jobs: RunJobs,
        mailbox: Mailbox) -> None:
    unverified = await make_user(verified=False)
    for sender in ("stranger@example.net", unverified.email):
        outcome = await receive_mail(platform, bytes(compose(
            sender=sender, to=f"support+{world.project.slug}@{DOMAIN}",
            subject="Help", text="It crashes.")))
        assert outcome.status == InboundStatus.BOUNCED
        assert outcome.reason.startswith("refused: We do not know your address")
    assert await Ticket.all().count() == 0
    await run_jobs()
    bounces = mailbox()
    assert sorted(m["To"] for m in bounces) == sorted(["stranger@example.net",
                                                       unverified.email])
    assert all(f"http://testserver/p/{world.project.slug}" in plain(m) for m in bounces)
    assert all("sign up" in plain(m) for m in bounces)


async def test_an_unknown_or_members_only_project_bounces(
        platform: Platform, app: Any, world: World, run_jobs: RunJobs,
        mailbox: Mailbox) -> None:
    outcome = await receive_mail(platform, bytes(compose(
        sender=world.member.email, to=f"support+no-such-project@{DOMAIN}",
        subject="Help", text="It crashes.")))
    assert outcome.status == InboundStatus.BOUNCED
    assert "There is no project at this address" in outcome.reason
    world.project.default_visibility = Visibility.MEMBERS
    await world.project.save()
    # A non-member of a members-only project learns nothing about it.
    hidden = await receive_mail(platform, bytes(compose(
        sender=world.outsider.email, to=f"support+{world.project.slug}@{DOMAIN}",
        subject="Help", text="It crashes.")))
    assert (hidden.status, hidden.reason) == (outcome.status, outcome.reason)
    assert await Ticket.all().count() == 0
    # Its members still write in.
    member = await receive_mail(platform, bytes(compose(
        sender=world.member.email, to=f"support+{world.project.slug}@{DOMAIN}",
        subject="Help me", text="It crashes.")))
    assert member.status == InboundStatus.POSTED, member.reason
    await run_jobs()
    assert [m["To"] for m in mailbox()].count(world.outsider.email) == 1


async def test_an_empty_message_is_refused(platform: Platform, app: Any,
                                           world: World) -> None:
    outcome = await receive_mail(platform, bytes(compose(
        sender=world.member.email, to=f"support+{world.project.slug}@{DOMAIN}",
        subject="Help", text="> only a quote\n")))
    assert outcome.status == InboundStatus.BOUNCED
    assert outcome.reason == ("refused: The ticket cannot be opened as written: "
                              "Please write something.")
    assert await Ticket.all().count() == 0


def test_titles_come_from_the_subject() -> None:
    assert ticket_title("Re: RE: Fwd:  It   breaks", "ada") == "It breaks"
    assert ticket_title("", "ada") == "Support request from ada by email"
    assert ticket_title("!!!", "ada") == "Support request from ada by email"
