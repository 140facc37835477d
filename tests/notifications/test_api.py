"""/api/v1/notifications, its preferences and the watch endpoints, and their boundaries."""

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
from tests.support import Login

RunJobs = Callable[[], Awaitable[int]]


async def mentions_for_alice(forum: Forum, run_jobs: RunJobs, times: int) -> list[int]:
    topic, _ = await forum.topic(forum.owner)
    for _ in range(times):
        await forum.reply(topic, forum.bob, mentions=(forum.alice,))
    await run_jobs()
    return [n.id for n in await Notification.filter(user_id=forum.alice.id).order_by("id")]


async def test_list_pages_newest_first_with_a_cursor(
        client: httpx.AsyncClient, login: Login, web_forum: Forum, run_jobs: RunJobs) -> None:
    ids = await mentions_for_alice(web_forum, run_jobs, 5)
    await login(web_forum.alice)
    first = (await client.get("/api/v1/notifications?limit=2")).json()
    assert [n["id"] for n in first["notifications"]] == [ids[4], ids[3]]
    assert first["unread_count"] == 5
    item = first["notifications"][0]
    assert item["kind"] == "mentioned" and item["actor"] == "bob"
    assert item["project"] == "acme" and item["read_at"] is None
    assert item["url"].endswith("#post-6")
    assert item["summary"] == "bob mentioned you in “Configuring the widget”"
    seen = [n["id"] for n in first["notifications"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await client.get(f"/api/v1/notifications?limit=2&cursor={cursor}")).json()
        seen += [n["id"] for n in page["notifications"]]
        cursor = page["next_cursor"]
    assert seen == list(reversed(ids))


async def test_unread_filter(client: httpx.AsyncClient, login: Login, web_forum: Forum,
                             run_jobs: RunJobs) -> None:
    ids = await mentions_for_alice(web_forum, run_jobs, 3)
    await login(web_forum.alice)
    response = await client.post("/api/v1/notifications/read", json={"ids": [ids[1]]})
    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread_count": 2}
    unread = (await client.get("/api/v1/notifications?unread=1")).json()
    assert [n["id"] for n in unread["notifications"]] == [ids[2], ids[0]]
    everything = (await client.get("/api/v1/notifications")).json()
    assert len(everything["notifications"]) == 3


async def test_mark_all_read(client: httpx.AsyncClient, login: Login, web_forum: Forum,
                             run_jobs: RunJobs) -> None:
    await mentions_for_alice(web_forum, run_jobs, 3)
    await login(web_forum.alice)
    response = await client.post("/api/v1/notifications/read", json={"all": True})
    assert response.json() == {"marked": 3, "unread_count": 0}


async def test_nobody_reads_or_marks_another_users_notifications(
        client: httpx.AsyncClient, login: Login, web_forum: Forum, run_jobs: RunJobs) -> None:
    ids = await mentions_for_alice(web_forum, run_jobs, 2)
    await login(web_forum.bob)
    assert (await client.get(f"/api/v1/notifications/{ids[0]}")).status_code == 404
    listed = (await client.get("/api/v1/notifications")).json()
    assert ids[0] not in [n["id"] for n in listed["notifications"]]
    refused = await client.post("/api/v1/notifications/read", json={"ids": [ids[0]]})
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    # Mixed with one of his own: still refused, and nothing is marked.
    own = await Notification.create(user=web_forum.bob, project=web_forum.project,
                                    kind="mentioned", data={})
    mixed = await client.post("/api/v1/notifications/read", json={"ids": [own.id, ids[1]]})
    assert mixed.status_code == 404
    assert await Notification.filter(read_at__isnull=False).count() == 0
    # "all" marks only his own.
    await client.post("/api/v1/notifications/read", json={"all": True})
    assert await Notification.filter(user_id=web_forum.alice.id, read_at=None).count() == 2
    await login(web_forum.alice)
    mine = await client.get(f"/api/v1/notifications/{ids[0]}")
    assert mine.status_code == 200 and mine.json()["id"] == ids[0]


async def test_api_needs_a_user(client: httpx.AsyncClient, web_forum: Forum) -> None:
    assert (await client.get("/api/v1/notifications")).status_code == 401
    assert (await client.post("/api/v1/notifications/read",
                              json={"all": True})).status_code == 401
    assert (await client.get("/api/v1/notifications/preferences")).status_code == 401


async def test_bad_input_is_a_4xx(client: httpx.AsyncClient, login: Login,
                                  web_forum: Forum) -> None:
    await login(web_forum.alice)
    bodies: list[dict[str, object]] = [{}, {"ids": []}, {"ids": [1], "all": True},
                                       {"ids": ["x"]}, {"other": 1}]
    for body in bodies:
        response = await client.post("/api/v1/notifications/read", json=body)
        assert response.status_code == 422, body
    assert (await client.get("/api/v1/notifications?cursor=abc")).status_code == 422
    assert (await client.get("/api/v1/notifications?limit=0")).status_code == 422
    assert (await client.get("/api/v1/notifications?limit=x")).status_code == 422
    refused = await client.put("/api/v1/notifications/preferences",
                               json={"email_frequency": "hourly"})
    assert refused.status_code == 422


async def test_preferences_get_and_put(client: httpx.AsyncClient, login: Login,
                                       web_forum: Forum) -> None:
    await login(web_forum.alice)
    defaults = (await client.get("/api/v1/notifications/preferences")).json()
    assert defaults == {"email_mentions": True, "email_replies": True, "email_quotes": True,
                        "email_accepted": True, "email_votes": False, "email_watching": True,
                        "email_badges": True,
                        "email_frequency": "immediately"}
    changed = await client.put("/api/v1/notifications/preferences",
                               json={"email_votes": True, "email_frequency": "never"})
    assert changed.status_code == 200
    assert changed.json() == {**defaults, "email_votes": True, "email_frequency": "never"}
    pref = await NotificationPreference.get(user_id=web_forum.alice.id)
    assert (pref.email_votes, pref.email_frequency) == (True, "never")


async def test_topic_and_category_watch(client: httpx.AsyncClient, login: Login,
                                        web_forum: Forum) -> None:
    topic, _ = await web_forum.topic(web_forum.owner, emit=False)
    await login(web_forum.alice)
    assert (await client.get(f"/api/v1/topics/{topic.id}/watch")).json() == {"level": "normal"}
    response = await client.put("/api/v1/projects/acme/categories/questions/watch",
                                json={"level": "watching"})
    assert response.json() == {"level": "watching"}
    # The topic inherits the category's level ...
    assert (await client.get(f"/api/v1/topics/{topic.id}/watch")).json() == {
        "level": "watching"}
    # ... until the user sets one for the topic itself.
    response = await client.put(f"/api/v1/topics/{topic.id}/watch", json={"level": "muted"})
    assert response.status_code == 200
    assert (await client.get(f"/api/v1/topics/{topic.id}/watch")).json() == {"level": "muted"}
    assert (await TopicWatch.get(user_id=web_forum.alice.id)).level == WatchLevel.MUTED
    assert (await CategoryWatch.get(user_id=web_forum.alice.id)).level == WatchLevel.WATCHING
    bad = await client.put(f"/api/v1/topics/{topic.id}/watch", json={"level": "loud"})
    assert bad.status_code == 422
    missing = await client.put("/api/v1/topics/999999/watch", json={"level": "muted"})
    assert missing.status_code == 404


async def test_watching_a_private_report_is_refused(
        client: httpx.AsyncClient, login: Login, web_forum: Forum) -> None:
    report, _ = await web_forum.topic(web_forum.alice, category=web_forum.security,
                                      private=True, emit=False)
    await login(web_forum.bob)
    for response in (
        await client.get(f"/api/v1/topics/{report.id}/watch"),
        await client.put(f"/api/v1/topics/{report.id}/watch", json={"level": "watching"}),
    ):
        assert response.status_code == 404
    assert not await TopicWatch.exists(user_id=web_forum.bob.id)
    await login(web_forum.owner)  # the team may
    ok = await client.put(f"/api/v1/topics/{report.id}/watch", json={"level": "watching"})
    assert ok.status_code == 200


async def test_api_is_in_the_openapi_document(client: httpx.AsyncClient,
                                              web_forum: Forum) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert "get" in paths["/api/v1/notifications"]
    assert "post" in paths["/api/v1/notifications/read"]
    assert {"get", "put"} <= set(paths["/api/v1/notifications/preferences"])
    assert "put" in paths["/api/v1/topics/{id}/watch"]
