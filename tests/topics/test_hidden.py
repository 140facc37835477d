"""Hidden posts (held by the screeners, or hidden by flags or a moderator): seen by their
author and the project's moderators, by nobody else, in the API, lists and search; and the
hide/unhide verbs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from forum import events
from forum.accounts.models import User
from forum.gates import Screening, Verdict
from forum.platform import Platform
from forum.topics import service
from forum.topics.hide import hide_post, unhide_post
from forum.topics.models import Post, Topic
from forum.topics.permissions import can_see_post
from forum.topics.schemas import ReplyIn
from tests.support import Login
from tests.topics.conftest import World, make_world
from tests.topics.gatekeeper import Gatekeeper

HELD = Screening(Verdict.HOLD, "First post with links.")


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await make_world("acme")


async def new_topic(client: httpx.AsyncClient, world: World, title: str, source: str
                    ) -> dict[str, Any]:
    response = await client.post("/api/v1/projects/acme/topics", json={
        "title": title, "source": source, "category_id": world.questions.id})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def listed_ids(client: httpx.AsyncClient) -> set[int]:
    response = await client.get("/api/v1/projects/acme/topics")
    assert response.status_code == 200
    return {t["id"] for t in response.json()["items"]}


async def searched_post_ids(client: httpx.AsyncClient, words: str) -> set[int]:
    response = await client.get("/api/v1/projects/acme/search", params={"q": words})
    assert response.status_code == 200
    return {h["post_id"] for h in response.json()["hits"]}


async def test_a_held_topic_is_seen_by_its_author_and_moderators_only(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper,
        run_jobs: Any) -> None:
    await login(world.member)
    gatekeeper.screening = HELD
    held = await new_topic(client, world, "Cheap watches zanzibar", "Buy zanzibar watches.")
    gatekeeper.screening = None
    shown = await new_topic(client, world, "Parsing zanzibar dates", "How, zanzibar?")
    await run_jobs()
    readers: list[tuple[User | None, bool]] = [
        (world.member, True), (world.moderator, True), (world.outsider, False),
        (world.supporter, False), (None, False)]
    for user, sees in readers:
        await login(user)
        got = await client.get(f"/api/v1/topics/{held['id']}")
        assert got.status_code == (200 if sees else 404), user
        if sees:
            assert got.json()["waiting_for_review"] is True
            assert got.json()["posts"][0]["waiting_for_review"] is True
        assert (held["id"] in await listed_ids(client)) is sees, user
        assert shown["id"] in await listed_ids(client)
        found = await searched_post_ids(client, "zanzibar")
        assert shown["post"]["id"] in found
        # Search shows a held post to moderators only (as it shows deleted ones).
        assert (held["post"]["id"] in found) is (user is world.moderator), user


async def test_a_held_reply_is_seen_by_its_author_and_moderators_only(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper,
        run_jobs: Any) -> None:
    await login(world.member)
    topic = await new_topic(client, world, "Parsing quetzal dates", "How, quetzal?")
    await login(world.outsider)
    gatekeeper.screening = HELD
    reply = (await client.post(f"/api/v1/topics/{topic['id']}/posts",
                               json={"source": "See quetzal spam."})).json()
    gatekeeper.screening = None
    await run_jobs()
    for user, sees in ((world.outsider, True), (world.moderator, True), (world.member, False),
                       (world.maintainer, True), (None, False)):
        await login(user)
        posts = (await client.get(f"/api/v1/topics/{topic['id']}")).json()["posts"]
        assert (reply["id"] in [p["id"] for p in posts]) is sees, user
        revisions = await client.get(f"/api/v1/posts/{reply['id']}/revisions")
        assert revisions.status_code == (200 if sees else 404), user
        found = await searched_post_ids(client, "quetzal")
        assert (reply["id"] in found) is (user in (world.moderator, world.maintainer)), user
    await login(world.member)
    voted = await client.post(f"/api/v1/posts/{reply['id']}/vote", json={"value": 1})
    assert voted.status_code == 404
    replied_to = await client.post(f"/api/v1/topics/{topic['id']}/posts",
                                   json={"source": "Replying to it.", "reply_to": reply["id"]})
    assert replied_to.status_code == 422
    await login(world.moderator)
    voted = await client.post(f"/api/v1/posts/{reply['id']}/vote", json={"value": 1})
    assert voted.status_code == 409


async def test_can_see_post_rule(platform: Platform, world: World) -> None:
    post = Post(author_id=world.member.id, hidden_at=None, deleted_at=None)
    stranger = await world.viewer(world.outsider)
    assert can_see_post(stranger, post)
    post.hidden_at = datetime.now(UTC)
    assert not can_see_post(stranger, post)
    assert not can_see_post(await world.viewer(None), post)
    assert can_see_post(await world.viewer(world.member), post)
    assert can_see_post(await world.viewer(world.moderator), post)


async def test_hide_and_unhide_are_idempotent_and_announce_held_posts(
        platform: Platform, client: httpx.AsyncClient, world: World, login: Login,
        gatekeeper: Gatekeeper, emitted: list[events.Event]) -> None:
    await login(world.member)
    gatekeeper.screening = HELD
    held = await new_topic(client, world, "A held question here", "Mention @nobody here.")
    gatekeeper.screening = None
    opening = await Post.get(id=held["post"]["id"])
    await unhide_post(platform, opening, world.moderator.id)
    await unhide_post(platform, opening, world.moderator.id)
    topic = await Topic.get(id=held["id"])
    assert topic.hidden_at is None and not opening.held
    stored = await Post.get(id=opening.id)
    assert stored.hidden_at is None and stored.hidden_reason == "" and not stored.held
    unhidden = [e for e in emitted if isinstance(e, events.PostUnhidden)]
    assert [(e.post_id, e.actor_id) for e in unhidden] == [(opening.id, world.moderator.id)]
    created = [e for e in emitted if isinstance(e, events.TopicCreated)]
    assert [e.topic_id for e in created] == [topic.id]
    await login(world.outsider)
    assert (await client.get(f"/api/v1/topics/{topic.id}")).status_code == 200

    # Hiding a visible reply: the topic's counts forget it; unhiding brings it back without
    # announcing it again.
    reply = await service.reply(platform, await world.viewer(world.outsider), topic,
                                ReplyIn(source="A visible answer."))
    assert (await Topic.get(id=topic.id)).reply_count == 1
    await hide_post(platform, reply, "Flagged as spam.", None)
    await hide_post(platform, reply, "Flagged again.", None)
    stored = await Post.get(id=reply.id)
    assert stored.hidden_reason == "Flagged as spam."
    assert (await Topic.get(id=topic.id)).reply_count == 0
    assert [e.post_id for e in emitted if isinstance(e, events.PostHidden)][-1] == reply.id
    assert len([e for e in emitted if isinstance(e, events.PostHidden)]) == 2  # held + once
    before = len([e for e in emitted if isinstance(e, events.PostCreated)])
    await unhide_post(platform, stored, world.moderator.id)
    assert (await Topic.get(id=topic.id)).reply_count == 1
    assert len([e for e in emitted if isinstance(e, events.PostCreated)]) == before

    # Hiding the opening post hides the topic.
    await hide_post(platform, await Post.get(id=opening.id), "Spam.", world.moderator.id)
    assert (await Topic.get(id=topic.id)).hidden_at is not None
    assert (await client.get(f"/api/v1/topics/{topic.id}")).status_code == 404


async def test_the_query_filters_match_can_see_post(platform: Platform, world: World) -> None:
    from forum.topics.permissions import hidden_q, read_scope, visible_posts_q
    from tests.topics.conftest import answer, start_topic

    topic = await start_topic(platform, world)
    shown = await answer(platform, world, topic, world.outsider, "Shown answer.")
    held = await answer(platform, world, topic, world.outsider, "Held answer.")
    await hide_post(platform, held, "Spam?", None)
    for user in (world.outsider, world.member, world.moderator, None):
        viewer = await world.viewer(user)
        query = Post.filter(topic_id=topic.id)
        q = visible_posts_q(viewer)
        ids = set(await (query.filter(q) if q is not None else query).values_list(
            "id", flat=True))
        expected = {p.id for p in await Post.filter(topic_id=topic.id)
                    if can_see_post(viewer, p)}
        assert ids == expected, user
        assert (held.id in ids) is (user in (world.outsider, world.moderator)), user
        assert shown.id in ids
        scope_q = hidden_q(await read_scope(viewer, world.project.id), "topic__")
        assert (scope_q is None) is (user is world.moderator)
