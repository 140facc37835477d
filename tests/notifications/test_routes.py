"""The notification pages: list, bell, open-and-mark-read, mark all, preferences, watch forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

from forum.notifications.models import (
    CategoryWatch,
    Notification,
    NotificationPreference,
    TopicWatch,
    WatchLevel,
)
from tests.notifications.conftest import Forum
from tests.support import Login, post_form

RunJobs = Callable[[], Awaitable[int]]


async def mention(forum: Forum, run_jobs: RunJobs, times: int = 1) -> None:
    """Bob mentions alice ``times`` times, in a topic of the owner."""
    topic, _ = await forum.topic(forum.owner)
    for _ in range(times):
        await forum.reply(topic, forum.bob, mentions=(forum.alice,))
    await run_jobs()


async def test_bell_shows_the_unread_count(client: httpx.AsyncClient, login: Login,
                                           web_forum: Forum, run_jobs: RunJobs) -> None:
    await login(web_forum.alice)
    page = await client.get("/notifications")
    assert 'hx-get="/notifications/count"' in page.text  # the bell in the header
    empty = await client.get("/notifications/count")
    assert empty.status_code == 200 and "bell-count" not in empty.text
    await mention(web_forum, run_jobs, times=3)
    badge = await client.get("/notifications/count")
    assert '<strong class="bell-count" title="3 unread notifications">3</strong>' in badge.text
    await login(web_forum.bob)
    assert "bell-count" not in (await client.get("/notifications/count")).text
    await login(None)
    anonymous = await client.get("/notifications/count")
    assert anonymous.status_code == 200 and "bell-count" not in anonymous.text


async def test_list_is_newest_first_with_unread_marked(
        client: httpx.AsyncClient, login: Login, web_forum: Forum, run_jobs: RunJobs) -> None:
    await mention(web_forum, run_jobs, times=2)
    first, second = await Notification.filter(user_id=web_forum.alice.id).order_by("id")
    await Notification.filter(id=first.id).update(read_at=first.created_at)
    await login(web_forum.alice)
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert "bob mentioned you in “Configuring the widget”" in page.text
    assert page.text.index(f"/notifications/{second.id}/open") < page.text.index(
        f"/notifications/{first.id}/open")
    assert page.text.count('class="notification unread"') == 1
    assert "1 unread" in page.text


async def test_list_needs_a_login(client: httpx.AsyncClient, web_forum: Forum) -> None:
    response = await client.get("/notifications")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_opening_marks_read_and_goes_to_the_post(
        client: httpx.AsyncClient, login: Login, web_forum: Forum, run_jobs: RunJobs) -> None:
    await mention(web_forum, run_jobs)
    [notification] = await Notification.filter(user_id=web_forum.alice.id)
    await login(web_forum.alice)
    response = await client.get(f"/notifications/{notification.id}/open")
    assert response.status_code == 303
    topic_id = notification.topic_id  # type: ignore[attr-defined]
    assert response.headers["location"] == (
        f"/p/acme/t/{topic_id}-configuring-the-widget#post-2")
    await notification.refresh_from_db()
    assert notification.read_at is not None


async def test_nobody_opens_another_users_notification(
        client: httpx.AsyncClient, login: Login, web_forum: Forum, run_jobs: RunJobs) -> None:
    await mention(web_forum, run_jobs)
    [notification] = await Notification.filter(user_id=web_forum.alice.id)
    await login(web_forum.bob)
    response = await client.get(f"/notifications/{notification.id}/open")
    assert response.status_code == 404
    await notification.refresh_from_db()
    assert notification.read_at is None


async def test_mark_all_read(client: httpx.AsyncClient, login: Login, web_forum: Forum,
                             run_jobs: RunJobs) -> None:
    topic, _ = await web_forum.topic(web_forum.owner)
    await web_forum.reply(topic, web_forum.bob, mentions=(web_forum.alice,))
    await web_forum.reply(topic, web_forum.bob, mentions=(web_forum.alice,))
    await web_forum.reply(topic, web_forum.alice, mentions=(web_forum.bob,))
    await run_jobs()
    await login(web_forum.alice)
    response = await post_form(client, "/notifications/read-all", {}, page="/notifications")
    assert response.status_code == 303
    assert await Notification.filter(user_id=web_forum.alice.id, read_at=None).count() == 0
    # Only her own: bob's stays unread.
    assert await Notification.filter(user_id=web_forum.bob.id, read_at=None).count() == 1


async def test_preferences_page_saves_choices(client: httpx.AsyncClient, login: Login,
                                              web_forum: Forum) -> None:
    await login(web_forum.alice)
    page = await client.get("/notifications/preferences")
    assert page.status_code == 200
    assert 'name="email_mentions" checked' in page.text
    assert 'name="email_votes">' in page.text  # off by default
    response = await post_form(client, "/notifications/preferences",
                               {"email_votes": "on", "email_replies": "on",
                                "email_frequency": "immediately"})
    assert response.status_code == 303
    pref = await NotificationPreference.get(user_id=web_forum.alice.id)
    assert (pref.email_votes, pref.email_replies, pref.email_mentions) == (True, True, False)
    bad = await post_form(client, "/notifications/preferences", {"email_frequency": "hourly"},
                          page="/notifications/preferences")
    assert bad.status_code == 422


async def test_watch_forms_for_topic_and_category(client: httpx.AsyncClient, login: Login,
                                                  web_forum: Forum) -> None:
    topic, _ = await web_forum.topic(web_forum.owner, emit=False)
    await login(web_forum.alice)
    response = await post_form(client, f"/p/acme/t/{topic.id}/watch", {"level": "watching"},
                               page="/notifications")
    assert response.status_code == 303
    assert response.headers["location"] == f"/p/acme/t/{topic.id}-configuring-the-widget"
    watch = await TopicWatch.get(user_id=web_forum.alice.id, topic_id=topic.id)
    assert (watch.level, watch.explicit) == (WatchLevel.WATCHING, True)
    response = await post_form(client, "/p/acme/c/questions/watch", {"level": "muted"},
                               page="/notifications")
    assert response.status_code == 303
    assert response.headers["location"] == "/p/acme/c/questions"
    cwatch = await CategoryWatch.get(user_id=web_forum.alice.id,
                                     category_id=web_forum.questions.id)
    assert cwatch.level == WatchLevel.MUTED
    bad = await post_form(client, f"/p/acme/t/{topic.id}/watch", {"level": "loud"},
                          page="/notifications")
    assert bad.status_code == 422


async def test_watch_form_refuses_a_topic_the_user_cannot_read(
        client: httpx.AsyncClient, login: Login, web_forum: Forum) -> None:
    report, _ = await web_forum.topic(web_forum.alice, category=web_forum.security,
                                      private=True, emit=False)
    await login(web_forum.bob)
    response = await post_form(client, f"/p/acme/t/{report.id}/watch", {"level": "watching"},
                               page="/notifications")
    assert response.status_code == 404
    wrong_project = await post_form(client, f"/p/other/t/{report.id}/watch",
                                    {"level": "watching"}, page="/notifications")
    assert wrong_project.status_code == 404
    assert not await TopicWatch.exists(user_id=web_forum.bob.id)


async def test_watch_form_fragments_show_the_current_level(
        client: httpx.AsyncClient, login: Login, web_forum: Forum) -> None:
    topic, _ = await web_forum.topic(web_forum.owner, emit=False)
    anonymous = await client.get(f"/p/acme/t/{topic.id}/watch")
    assert anonymous.status_code == 200 and "<form" not in anonymous.text
    await login(web_forum.alice)
    await CategoryWatch.create(user=web_forum.alice, category=web_forum.questions,
                               level=WatchLevel.WATCHING)
    fragment = await client.get(f"/p/acme/t/{topic.id}/watch")
    assert f'action="/p/acme/t/{topic.id}/watch"' in fragment.text
    assert '<option value="watching" selected>' in fragment.text  # from the category
    assert 'name="csrf_token"' in fragment.text
    category = await client.get("/p/acme/c/questions/watch")
    assert '<option value="watching" selected>' in category.text
    assert (await client.get("/p/acme/c/nope/watch")).status_code == 404
    report, _ = await web_forum.topic(web_forum.owner, category=web_forum.security,
                                      private=True, emit=False)
    assert (await client.get(f"/p/acme/t/{report.id}/watch")).status_code == 404


async def test_topic_and_category_pages_load_the_watch_form(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    from forum.topics.models import Category, Post, Topic
    from tests.factories import make_project, make_user

    owner = await make_user()
    project = await make_project(owner=owner)
    await login(owner)
    from datetime import UTC, datetime

    from forum.topics.categories import ensure_default_categories

    await ensure_default_categories(project)
    category = await Category.filter(project_id=project.id).order_by("position").first()
    assert category is not None

    topic = await Topic.create(project=project, category=category, author=owner,
                               title="Watch me please", slug="watch-me-please",
                               last_posted_at=datetime.now(UTC))
    await Post.create(topic=topic, author=owner, number=1, source="x", cooked="<p>x</p>")
    page = await client.get(f"/p/{project.slug}/t/{topic.id}-{topic.slug}")
    assert f'hx-get="/p/{project.slug}/t/{topic.id}/watch"' in page.text
    page = await client.get(f"/p/{project.slug}/c/{category.slug}")
    assert f'hx-get="/p/{project.slug}/c/{category.slug}/watch"' in page.text
