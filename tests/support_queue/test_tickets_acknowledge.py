"""On submission the requester is told, in the app and by email: the reference, where the
ticket stands and what speeds an answer up. Drafts tell nobody."""

from __future__ import annotations

from typing import Any

from forum.notifications.models import Notification, NotificationKind
from forum.notifications.service import describe
from forum.platform import Platform
from forum.support_queue.models import SupportSettings
from forum.support_queue.permissions import access_ticket
from forum.support_queue.tickets import check_submit, do_submit
from forum.topics.models import Topic
from tests.support_queue.conftest import World, open_ticket


async def test_submission_is_acknowledged_by_mail_and_in_the_app(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any) -> None:
    await SupportSettings.create(project_id=world.project.id,
                                 guidelines="Say which version you run.")
    ticket = await open_ticket(platform, world, title="Uploads stall at 99 percent")
    await run_jobs()
    messages = [m for m in mailbox() if m["To"] == world.member.email]
    assert len(messages) == 1
    message = messages[0]
    reference = f"{world.project.slug.upper()}-1"
    assert message["Subject"] == (
        f"[{reference}] We received your ticket: Uploads stall at 99 percent")
    body = message.get_body(("plain",)).get_content()
    assert reference in body and "Say which version you run." in body
    assert "To help us answer sooner" in body
    assert "It is number 1 in the support queue." in body and "Expected response: " in body
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    assert f"/p/{world.project.slug}/t/{topic.id}-{topic.slug}" in body
    notes = await Notification.filter(user_id=world.member.id,
                                      kind=NotificationKind.TICKET_SUBMITTED)
    assert len(notes) == 1 and notes[0].topic_id == topic.id  # type: ignore[attr-defined]
    assert describe(notes[0]) == "Your ticket “Uploads stall at 99 percent” is in the support queue"


async def test_drafts_alert_nobody_until_submitted(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any) -> None:
    ticket = await open_ticket(platform, world, submit=False)
    await run_jobs()
    assert mailbox() == []
    assert not await Notification.filter(kind=NotificationKind.TICKET_SUBMITTED).exists()
    ctx = await access_ticket(world.member, ticket.id)
    await check_submit(platform, ctx.viewer, ctx.ticket, ctx.topic)
    await do_submit(platform, ctx.viewer, ctx.ticket, ctx.topic)
    await run_jobs()
    assert [m["To"] for m in mailbox()] == [world.member.email]
    assert await Notification.filter(kind=NotificationKind.TICKET_SUBMITTED).count() == 1
