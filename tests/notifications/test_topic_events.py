"""A line in a topic's timeline (a GitHub issue closed, ...) notifies the topic's
watchers, not its actor nor those who only track it, once per event."""

from __future__ import annotations

from typing import Any

from forum.notifications.models import Notification, NotificationKind, WatchLevel
from forum.notifications.service import describe, post_url
from forum.topics.service import record_topic_event
from tests.notifications.conftest import Forum


async def test_watchers_hear_of_a_timeline_event(forum: Forum, run_jobs: Any) -> None:
    topic, _ = await forum.topic(forum.alice, emit=False)
    await forum.watch(forum.bob, topic, WatchLevel.WATCHING)
    await forum.watch(forum.carol, topic, WatchLevel.TRACKING)
    await forum.watch(forum.owner, topic, WatchLevel.WATCHING)
    await record_topic_event(forum.platform, topic.id, "github.closed",
                             "octocat closed GitHub issue o/r#3", url="https://x/3",
                             actor_id=forum.owner.id)
    await run_jobs()
    found = await Notification.filter(kind=NotificationKind.TOPIC_EVENT)
    assert [n.user_id for n in found] == [forum.bob.id]  # type: ignore[attr-defined]
    assert describe(found[0]) == ("octocat closed GitHub issue o/r#3 in "
                                  "“Configuring the widget”")
    assert post_url(found[0]) == (f"/p/{forum.project.slug}/t/{topic.id}-"
                                  "configuring-the-widget#post-1")
    await forum.platform.enqueue("notifications.topic_event", topic_id=topic.id)
    await run_jobs()  # the job again: nobody is told twice
    assert await Notification.filter(kind=NotificationKind.TOPIC_EVENT).count() == 1
