"""What the team hears as tickets change: the activity digests report (from events), the
email to a new assignee, every message by email at level "every", nothing when muted, and
the notification level control (web and API) with its permission boundaries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from forum import events
from forum.platform import Platform
from forum.support_queue.levels import supporter_level, supporter_levels
from forum.support_queue.models import Ticket
from forum.support_queue.team_models import (
    ActivityKind,
    NotifyLevel,
    SupportActivity,
    TicketNotifyLevel,
)
from forum.topics.models import Post
from tests.support import Login, post_form
from tests.support_queue.conftest import World, make_world, open_ticket


async def add_post(ticket: Ticket, author_id: int, source: str) -> Post:
    number = await Post.filter(topic_id=ticket.topic_id).count() + 1  # type: ignore[attr-defined]
    return await Post.create(topic_id=ticket.topic_id, author_id=author_id,  # type: ignore[attr-defined]
                             number=number, source=source, cooked=f"<p>{source}</p>")


async def assign(platform: Platform, world: World, ticket: Ticket, assignee_id: int,
                 actor_id: int) -> None:
    await Ticket.filter(id=ticket.id).update(assignee_id=assignee_id)
    await platform.emit(events.TicketAssigned(project=world.project.id, ticket_id=ticket.id,
                                              assignee_id=assignee_id, actor_id=actor_id))


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"mail_in_domain": "in.example.org"}


def mails_to(mailbox: Any, email: str) -> list[Any]:
    return [m for m in mailbox() if m["To"] == email]


async def test_levels_default_to_digest(platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    assert await supporter_level(ticket.id, world.supporter.id) == NotifyLevel.DIGEST
    await TicketNotifyLevel.create(ticket=ticket, user=world.owner, level=NotifyLevel.MUTE)
    assert await supporter_levels(ticket.id, [world.supporter.id, world.owner.id]) == {
        world.supporter.id: NotifyLevel.DIGEST, world.owner.id: NotifyLevel.MUTE}


async def test_assignment_by_someone_else_is_mailed_and_reported(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any) -> None:
    ticket = await open_ticket(platform, world, title="Cannot log in")
    await assign(platform, world, ticket, world.supporter.id, world.owner.id)
    await run_jobs()
    activity = await SupportActivity.get(user_id=world.supporter.id)
    assert activity.kind == ActivityKind.ASSIGNED
    assert activity.summary == f"assigned to you by {world.owner.username}"
    [mail] = mails_to(mailbox, world.supporter.email)
    assert "assigned to you: Cannot log in" in mail["Subject"]
    assert f"/p/{world.project.slug}/t/{ticket.topic_id}-" in mail.get_body(  # type: ignore[attr-defined]
        ("plain",)).get_content()


async def test_taking_a_ticket_yourself_sends_nothing(platform: Platform, world: World,
                                                      run_jobs: Any, mailbox: Any) -> None:
    ticket = await open_ticket(platform, world)
    await assign(platform, world, ticket, world.supporter.id, world.supporter.id)
    await run_jobs()
    assert not mails_to(mailbox, world.supporter.email)
    assert not await SupportActivity.exists()


async def test_a_muted_assignee_gets_no_email(platform: Platform, world: World,
                                              run_jobs: Any, mailbox: Any) -> None:
    ticket = await open_ticket(platform, world)
    await TicketNotifyLevel.create(ticket=ticket, user=world.supporter, level=NotifyLevel.MUTE)
    await assign(platform, world, ticket, world.supporter.id, world.owner.id)
    await run_jobs()
    assert not mails_to(mailbox, world.supporter.email)


async def test_messages_reach_the_assignees_digest_and_every_level_by_email(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any) -> None:
    ticket = await open_ticket(platform, world)
    await Ticket.filter(id=ticket.id).update(assignee_id=world.supporter.id)
    await TicketNotifyLevel.create(ticket=ticket, user=world.maintainer,
                                   level=NotifyLevel.EVERY)
    # An outsider at level "every" (e.g. removed from the team since) hears nothing.
    await TicketNotifyLevel.create(ticket=ticket, user=world.outsider, level=NotifyLevel.EVERY)
    post = await add_post(ticket, world.member.id, "It still crashes with 2.1")
    await platform.emit(events.TicketResponded(project=world.project.id, ticket_id=ticket.id,
                                               post_id=post.id, by_team=False, first=False))
    await run_jobs()
    activity = await SupportActivity.get(user_id=world.supporter.id)
    assert (activity.kind, activity.post_id) == (ActivityKind.UPDATE, post.id)
    assert activity.summary == f"new message from {world.member.username}"
    assert not mails_to(mailbox, world.supporter.email)  # digest only, the default
    [mail] = mails_to(mailbox, world.maintainer.email)
    assert "It still crashes with 2.1" in mail.get_body(("plain",)).get_content()
    assert mail["References"].startswith(f"<topic-{ticket.topic_id}@")  # type: ignore[attr-defined]
    assert mail["Reply-To"].startswith("reply+")  # answering the email posts in the ticket
    assert not mails_to(mailbox, world.outsider.email)
    # The author is never mailed their own message.
    own = await add_post(ticket, world.maintainer.id, "Looking into it")
    await platform.emit(events.TicketResponded(project=world.project.id, ticket_id=ticket.id,
                                               post_id=own.id, by_team=True, first=True))
    await run_jobs()
    assert len(mails_to(mailbox, world.maintainer.email)) == 1


async def test_state_changes_and_mentions_are_reported(platform: Platform, world: World,
                                                       run_jobs: Any) -> None:
    ticket = await open_ticket(platform, world)
    await Ticket.filter(id=ticket.id).update(assignee_id=world.supporter.id)
    await platform.emit(events.TicketStateChanged(project=world.project.id,
                                                  ticket_id=ticket.id, actor_id=None,
                                                  old="waiting", new="queued"))
    post = await add_post(ticket, world.member.id, "@someone please")
    await platform.emit(events.PostCreated(
        project=world.project.id, topic_id=ticket.topic_id,  # type: ignore[attr-defined]
        post_id=post.id, author_id=world.member.id, number=post.number, reply_to_post_id=None,
        mentioned_user_ids=(world.owner.id, world.outsider.id)))
    await run_jobs()
    # (The tickets domain also announces the post as a message: "new message from ...".)
    kinds = {(a.user_id, a.kind, a.summary) for a in await SupportActivity.all()  # type: ignore[attr-defined]
             if not a.summary.startswith("new message")}
    assert kinds == {
        (world.supporter.id, ActivityKind.UPDATE, "waiting → queued by the system"),
        (world.owner.id, ActivityKind.MENTION, f"{world.member.username} mentioned you"),
    }


async def test_mentions_outside_tickets_are_not_recorded(platform: Platform, world: World,
                                                         run_jobs: Any) -> None:
    from tests.topics.conftest import start_topic

    topic = await start_topic(platform, world)
    await platform.emit(events.PostCreated(
        project=world.project.id, topic_id=topic.id, post_id=1, author_id=world.member.id,
        number=2, reply_to_post_id=None, mentioned_user_ids=(world.owner.id,)))
    await run_jobs()
    assert not await SupportActivity.exists()


# The level control


async def test_level_control_web_and_api(client: httpx.AsyncClient, login: Login,
                                         platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    control = f"/p/{world.project.slug}/t/{ticket.topic_id}/notify-level"  # type: ignore[attr-defined]
    await login(world.supporter)
    page = await client.get(control)
    assert page.status_code == 200 and '<option value="digest" selected>' in page.text
    saved = await post_form(client, control, {"level": "every"}, page=control)
    assert saved.status_code == 303
    assert await supporter_level(ticket.id, world.supporter.id) == NotifyLevel.EVERY
    bad = await post_form(client, control, {"level": "loud"}, page=control)
    assert bad.status_code == 422
    api = f"/api/v1/tickets/{ticket.id}/notify-level"
    got = await client.get(api)
    assert got.json() == {"ticket_id": ticket.id, "level": "every", "explicit": True}
    put = await client.put(api, json={"level": "mute"})
    assert put.status_code == 200
    assert await supporter_level(ticket.id, world.supporter.id) == NotifyLevel.MUTE
    assert (await client.put(api, json={"level": "loud"})).status_code == 422


async def test_level_control_refuses_non_team(client: httpx.AsyncClient, login: Login,
                                              platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    other = await make_world()
    control = f"/p/{world.project.slug}/t/{ticket.topic_id}/notify-level"  # type: ignore[attr-defined]
    api = f"/api/v1/tickets/{ticket.id}/notify-level"
    for user in (world.member, world.outsider, other.owner):
        await login(user)
        assert (await client.get(control)).status_code == 403
        assert (await client.get(api)).status_code == 404
        assert (await client.put(api, json={"level": "every"})).status_code == 404
    assert not await TicketNotifyLevel.exists()


# What the notification emails ask (hook forum_email_allowed)


async def notification_mails(mailbox: Any, email: str) -> list[Any]:
    return [m for m in mailbox() if m["To"] == email and "digest" not in m["Subject"]
            and "assigned to you" not in m["Subject"]]


async def test_a_mention_in_a_ticket_is_mailed_unless_muted(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any) -> None:
    from forum.notifications.models import Notification
    from forum.topics.models import Topic
    from tests.topics.conftest import answer

    ticket = await open_ticket(platform, world)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    await answer(platform, world, topic, world.member, f"@{world.supporter.username} help?")
    await run_jobs()
    assert len(await notification_mails(mailbox, world.supporter.email)) == 1  # digest level
    await TicketNotifyLevel.create(ticket=ticket, user=world.supporter, level=NotifyLevel.MUTE)
    await answer(platform, world, topic, world.member, f"@{world.supporter.username} hello?")
    await run_jobs()
    assert len(await notification_mails(mailbox, world.supporter.email)) == 1
    # Kept in the app all the same.
    assert await Notification.filter(user_id=world.supporter.id, kind="mentioned").count() == 2


async def test_watched_ticket_activity_waits_for_the_digest(
        platform: Platform, world: World, run_jobs: Any, mailbox: Any) -> None:
    from forum.notifications.models import TopicWatch, WatchLevel
    from forum.topics.models import Topic
    from tests.topics.conftest import answer

    ticket = await open_ticket(platform, world)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    for user in (world.supporter, world.maintainer, world.outsider):
        await TopicWatch.create(user=user, topic=topic, level=WatchLevel.WATCHING)
    await TicketNotifyLevel.create(ticket=ticket, user=world.maintainer,
                                   level=NotifyLevel.EVERY)
    await answer(platform, world, topic, world.member, "More details: it fails on ARM.")
    await run_jobs()
    # Digest only: nothing now. Every message: one mail (the support queue's), not two.
    assert await notification_mails(mailbox, world.supporter.email) == []
    [mail] = await notification_mails(mailbox, world.maintainer.email)
    assert "fails on ARM" in mail.get_body(("plain",)).get_content()
    # Not on the team: the notifications domain decides as for any topic.
    assert len(await notification_mails(mailbox, world.outsider.email)) == 1
