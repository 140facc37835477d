"""Notification emails: sent by jobs, only when the user wants them, once, threaded by topic."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from forum.notifications.models import Notification, NotificationPreference
from tests.notifications.conftest import Forum

RunJobs = Callable[[], Awaitable[int]]
Mailbox = Callable[[], list[Any]]


def text_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def html_of(message: Any) -> str:
    return str(message.get_body(preferencelist=("html",)).get_content())


async def test_mention_is_emailed_with_links_and_thread_header(
        forum: Forum, run_jobs: RunJobs, mailbox: Mailbox) -> None:
    topic, _ = await forum.topic(forum.owner)
    await forum.reply(topic, forum.bob, mentions=(forum.alice,),
                      source="@alice could you look at this?")
    assert mailbox() == []  # nothing before the jobs run
    await run_jobs()
    [message] = [m for m in mailbox() if m["To"] == "alice@example.org"]
    assert message["Subject"] == "[Acme] bob mentioned you in “Configuring the widget”"
    assert message["References"] == f"<topic-{topic.id}@{message['Message-ID'].split('@')[1]}"
    body = text_of(message)
    assert f"http://testserver/p/acme/t/{topic.id}-configuring-the-widget#post-2" in body
    assert "http://testserver/notifications/preferences" in body
    assert "@alice could you look at this?" in body
    assert "/notifications/preferences" in html_of(message)
    [notification] = await Notification.filter(user_id=forum.alice.id)
    assert notification.emailed_at is not None


async def test_votes_are_not_emailed_by_default(forum: Forum, run_jobs: RunJobs,
                                                mailbox: Mailbox) -> None:
    _, opening = await forum.topic(forum.alice)
    await forum.vote(opening, forum.bob)
    await run_jobs()
    assert await Notification.filter(user_id=forum.alice.id, kind="voted").count() == 1
    assert mailbox() == []
    await NotificationPreference.create(user=forum.alice, email_votes=True)
    await forum.vote(opening, forum.owner)  # aggregated into the unread one: not mailed again
    await run_jobs()
    assert mailbox() == []
    await Notification.filter(user_id=forum.alice.id).update(read_at=opening.created_at)
    await forum.vote(opening, forum.carol)
    await run_jobs()
    [message] = mailbox()
    assert message["Subject"] == "[Acme] carol voted on your post in “Configuring the widget”"


async def test_no_email_when_the_kind_is_switched_off(forum: Forum, run_jobs: RunJobs,
                                                      mailbox: Mailbox) -> None:
    await NotificationPreference.create(user=forum.alice, email_mentions=False)
    await NotificationPreference.create(user=forum.bob, email_frequency="never")
    topic, _ = await forum.topic(forum.owner)
    await forum.reply(topic, forum.carol, mentions=(forum.alice, forum.bob))
    await run_jobs()
    assert await Notification.filter(kind="mentioned").count() == 2  # still in the app
    assert [m["To"] for m in mailbox()] == ["owner@example.org"]  # owner: replied, default on


async def test_read_before_the_job_ran_is_not_emailed(forum: Forum, run_jobs: RunJobs,
                                                      mailbox: Mailbox) -> None:
    topic, _ = await forum.topic(forum.owner)
    await forum.reply(topic, forum.bob, reply_to=None)
    await run_jobs()
    assert len(mailbox()) == 1
    [notification] = await Notification.filter(user_id=forum.owner.id)
    # The email job runs again (a retry): the notification is mailed only once.
    await forum.platform.enqueue("notifications.email", notification_ids=[notification.id])
    await run_jobs()
    assert len(mailbox()) == 1
    read = await Notification.create(
        user=forum.owner, project=forum.project, kind="replied", topic=topic,
        data=notification.data, read_at=notification.created_at)
    await forum.platform.enqueue("notifications.email", notification_ids=[read.id])
    await run_jobs()
    assert len(mailbox()) == 1


async def test_accepted_answer_email(forum: Forum, run_jobs: RunJobs, mailbox: Mailbox) -> None:
    topic, _ = await forum.topic(forum.alice)
    answer = await forum.reply(topic, forum.bob)
    await run_jobs()
    await forum.accept(topic, answer, forum.alice)
    await run_jobs()
    subjects = [m["Subject"] for m in mailbox() if m["To"] == "bob@example.org"]
    assert subjects == ["[Acme] alice accepted your answer in “Configuring the widget”"]


async def test_unsubscribe_link_stops_notification_emails(
        client: Any, web_forum: Forum, run_jobs: RunJobs, mailbox: Mailbox) -> None:
    from tests.support import post_form

    topic, _ = await web_forum.topic(web_forum.owner)
    await web_forum.reply(topic, web_forum.bob, mentions=(web_forum.alice,))
    await run_jobs()
    [message] = [m for m in mailbox() if m["To"] == "alice@example.org"]
    header = message["List-Unsubscribe"]
    assert header.startswith("<http://testserver/notifications/unsubscribe?token=")
    link = header.strip("<>").removeprefix("http://testserver")
    assert link in text_of(message)
    page = await client.get(link)  # a visitor, not logged in: the link is enough
    assert page.status_code == 200 and "alice@example.org" in page.text
    assert not await NotificationPreference.exists(user_id=web_forum.alice.id)  # GET: no change
    token = link.split("token=", 1)[1]
    done = await post_form(client, "/notifications/unsubscribe", {"token": token}, page=link)
    assert done.status_code == 200 and "no more notification emails" in done.text
    pref = await NotificationPreference.get(user_id=web_forum.alice.id)
    assert pref.email_frequency == "never"
    await web_forum.reply(topic, web_forum.bob, mentions=(web_forum.alice,))
    await run_jobs()
    assert len([m for m in mailbox() if m["To"] == "alice@example.org"]) == 1
    # A forged or altered token changes nothing.
    bad = await client.get("/notifications/unsubscribe?token=" + token[:-2] + "xx")
    assert bad.status_code == 400
    assert (await client.get("/notifications/unsubscribe")).status_code == 400
