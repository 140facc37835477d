"""The topics API's real service verbs emit events; the notification jobs act on them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.notifications.conftest import Forum
from tests.support import Login

RunJobs = Callable[[], Awaitable[int]]


async def test_ask_answer_mention_vote_accept(
        client: httpx.AsyncClient, login: Login, web_forum: Forum, run_jobs: RunJobs,
        mailbox: Callable[[], list[Any]]) -> None:
    await login(web_forum.alice)
    created = await client.post("/api/v1/projects/acme/topics", json={
        "title": "How do I configure the widget?", "category_id": web_forum.questions.id,
        "source": "I tried everything, any idea?"})
    assert created.status_code == 201, created.text
    topic_id = created.json()["id"]
    await login(web_forum.bob)
    answer = await client.post(f"/api/v1/topics/{topic_id}/posts",
                               json={"source": "Set the flag. @owner can confirm."})
    assert answer.status_code == 201, answer.text
    answer_id = answer.json()["id"]
    assert (await client.get("/api/v1/notifications")).json()["unread_count"] == 0
    await run_jobs()

    await login(web_forum.alice)
    mine = (await client.get("/api/v1/notifications")).json()["notifications"]
    assert [(n["kind"], n["actor"]) for n in mine] == [("replied", "bob")]
    await login(web_forum.owner)
    mine = (await client.get("/api/v1/notifications")).json()["notifications"]
    assert [(n["kind"], n["actor"]) for n in mine] == [("mentioned", "bob")]

    await login(web_forum.alice)
    voted = await client.post(f"/api/v1/posts/{answer_id}/vote", json={"value": 1})
    assert voted.status_code == 200, voted.text
    accepted = await client.post(f"/api/v1/topics/{topic_id}/accept",
                                 json={"post_id": answer_id})
    assert accepted.status_code == 200, accepted.text
    await run_jobs()
    await login(web_forum.bob)
    mine = (await client.get("/api/v1/notifications")).json()["notifications"]
    assert sorted(n["kind"] for n in mine) == ["answer_accepted", "voted"]
    to_bob = [m["Subject"] for m in mailbox() if m["To"] == "bob@example.org"]
    assert to_bob == ["[Acme] alice accepted your answer in “How do I configure the widget?”"]
