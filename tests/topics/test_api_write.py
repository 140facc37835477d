"""The topics write API: status codes, the error shape, permission boundaries, and that a
refusal stores nothing."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.accounts.middleware import hash_api_key
from forum.accounts.models import ApiKey, User
from forum.projects.models import Project, Visibility
from forum.topics.models import Post, Topic, TopicState, Vote
from tests.support import Login
from tests.topics.conftest import World, make_world, snapshot


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await make_world("acme")


async def new_topic(client: httpx.AsyncClient, world: World, **fields: Any) -> dict[str, Any]:
    body = {"title": "How do I parse dates?", "source": "With **what**?",
            "category_id": world.questions.id, **fields}
    response = await client.post(f"/api/v1/projects/{world.project.slug}/topics", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_ask_answer_vote_accept_edit_round_trip(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world, tags=["dates"])
    assert topic["state"] == "open" and topic["tags"] == ["dates"]
    assert topic["url"] == f"/p/acme/t/{topic['id']}-how-do-i-parse-dates"
    assert topic["post"]["number"] == 1 and "<strong>what</strong>" in topic["post"]["cooked"]

    await login(world.outsider)
    reply = await client.post(f"/api/v1/topics/{topic['id']}/posts",
                              json={"source": "Use `dateutil`."})
    assert reply.status_code == 201
    answer = reply.json()
    assert answer["number"] == 2 and answer["author"] == world.outsider.username

    await login(world.member)
    voted = await client.post(f"/api/v1/posts/{answer['id']}/vote", json={"value": 1})
    assert voted.json() == {"post_id": answer["id"], "value": 1, "score": 1, "upvotes": 1,
                            "downvotes": 0}
    accepted = await client.post(f"/api/v1/topics/{topic['id']}/accept",
                                 json={"post_id": answer["id"]})
    assert accepted.status_code == 200
    assert (accepted.json()["state"], accepted.json()["accepted_post_id"]) == (
        "solved", answer["id"])
    edited = await client.patch(f"/api/v1/posts/{topic['post']['id']}",
                                json={"source": "With **which** library?",
                                      "title": "How do I parse ISO dates?"})
    assert edited.status_code == 200 and edited.json()["edit_count"] == 1
    revisions = await client.get(f"/api/v1/posts/{topic['post']['id']}/revisions")
    assert revisions.status_code == 200
    listed = revisions.json()["revisions"]
    assert [r["number"] for r in listed] == [1, 2]
    assert "<del>" in listed[1]["diff_html"] and "<ins>" in listed[1]["diff_html"]

    withdrawn = await client.post(f"/api/v1/topics/{topic['id']}/accept",
                                  json={"post_id": None})
    assert withdrawn.json()["state"] == "open"
    bookmarked = await client.post(f"/api/v1/posts/{answer['id']}/bookmark", json={})
    assert bookmarked.json() == {"post_id": answer["id"], "bookmarked": True}
    removed = await client.request("DELETE", f"/api/v1/posts/{answer['id']}/bookmark",
                                   json={})
    assert removed.json() == {"post_id": answer["id"], "bookmarked": False}


async def test_get_and_post_share_the_topics_path(client: httpx.AsyncClient, world: World,
                                                  login: Login) -> None:
    await login(world.member)
    created = await new_topic(client, world)
    listed = await client.get("/api/v1/projects/acme/topics")
    assert listed.status_code == 200
    assert created["id"] in [t["id"] for t in listed.json()["items"]]
    detail = await client.get(f"/api/v1/topics/{created['id']}")
    assert detail.status_code == 200 and detail.json()["title"] == created["title"]


@pytest.mark.parametrize(("body", "field"), [
    ({"source": ""}, "source"), ({"source": "   "}, "source"),
    ({"source": "x" * 32_001}, "source"), ({"source": "?!..."}, "source"),
    ({"title": "!!!!!!"}, "title"), ({"title": ""}, "title"),
    ({"tags": ["a", "b", "c", "d", "e", "f"]}, "tags"), ({"extra": 1}, "extra"),
])
async def test_bad_topics_are_422_and_store_nothing(
        client: httpx.AsyncClient, world: World, login: Login, body: dict[str, Any],
        field: str) -> None:
    await login(world.member)
    before = await snapshot()
    payload = {"title": "A good title", "source": "A good body",
               "category_id": world.questions.id, **body}
    response = await client.post("/api/v1/projects/acme/topics", json=payload)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert await snapshot() == before


async def test_bad_replies_and_votes(client: httpx.AsyncClient, world: World,
                                     login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world)
    before = await snapshot()
    cases = [
        ("post", f"/api/v1/topics/{topic['id']}/posts", {"source": ""}, 422),
        ("post", f"/api/v1/topics/{topic['id']}/posts", {"source": "y" * 40_000}, 422),
        ("post", f"/api/v1/topics/{topic['id']}/posts", {}, 422),
        ("post", f"/api/v1/posts/{topic['post']['id']}/vote", {"value": 2}, 422),
        ("post", f"/api/v1/posts/{topic['post']['id']}/vote", {"value": "up"}, 422),
        ("post", f"/api/v1/posts/{topic['post']['id']}/vote", {"value": 1}, 403),  # own post
        ("post", f"/api/v1/topics/{topic['id']}/accept", {"post_id": topic["post"]["id"]}, 422),
        ("post", "/api/v1/topics/999999/posts", {"source": "Hello"}, 404),
        ("post", "/api/v1/posts/999999/vote", {"value": 1}, 404),
    ]
    for method, path, body, status in cases:
        response = await client.request(method, path, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert response.json()["error"]["message"]
    malformed = await client.post(f"/api/v1/topics/{topic['id']}/posts", content=b"{nope",
                                  headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert await snapshot() == before


async def test_locked_and_deleted_topics_refuse_replies(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world)
    await Topic.filter(id=topic["id"]).update(locked=True)
    await login(world.outsider)
    before = await snapshot()
    locked = await client.post(f"/api/v1/topics/{topic['id']}/posts", json={"source": "Hi"})
    assert locked.status_code == 409 and "locked" in locked.json()["error"]["message"]
    await Topic.filter(id=topic["id"]).update(locked=False, deleted_at=datetime.now(UTC))
    deleted = await client.post(f"/api/v1/topics/{topic['id']}/posts", json={"source": "Hi"})
    assert deleted.status_code == 404
    assert await snapshot() == before


async def test_accepting_as_a_stranger_or_another_topics_post(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world)
    other = await new_topic(client, world, title="Another question entirely",
                            source="A different body.")
    await login(world.outsider)
    answer = (await client.post(f"/api/v1/topics/{topic['id']}/posts",
                                json={"source": "An answer"})).json()
    foreign = (await client.post(f"/api/v1/topics/{other['id']}/posts",
                                 json={"source": "Elsewhere"})).json()
    stranger = await client.post(f"/api/v1/topics/{topic['id']}/accept",
                                 json={"post_id": answer["id"]})
    assert stranger.status_code == 403
    await login(world.member)
    wrong = await client.post(f"/api/v1/topics/{topic['id']}/accept",
                              json={"post_id": foreign["id"]})
    assert wrong.status_code == 422 and "post_id" in wrong.json()["error"]["fields"]
    stored = await Topic.get(id=topic["id"])
    assert (stored.state, stored.accepted_post_id) == (TopicState.OPEN, None)


async def test_private_reports_and_members_only_projects_are_404(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.outsider)
    report = await new_topic(client, world, category_id=world.categories["security"].id)
    assert report["is_private"] and report["kind"] == "security_report"
    hidden = await make_world("hidden")
    await Project.filter(id=hidden.project.id).update(default_visibility=Visibility.MEMBERS)
    await login(hidden.member)
    secret = await client.post("/api/v1/projects/hidden/topics", json={
        "title": "Members only here", "source": "Body", "category_id": hidden.questions.id})
    assert secret.status_code == 201
    secret_post = secret.json()["post"]["id"]

    await login(world.member)  # a member of acme: neither is theirs to see
    before = await snapshot()
    for topic_id, post_id in ((report["id"], report["post"]["id"]),
                              (secret.json()["id"], secret_post)):
        for method, path, body in (
                ("post", f"/api/v1/topics/{topic_id}/posts", {"source": "Hi"}),
                ("post", f"/api/v1/posts/{post_id}/vote", {"value": 1}),
                ("patch", f"/api/v1/posts/{post_id}", {"source": "Mine now"}),
                ("post", f"/api/v1/posts/{post_id}/bookmark", {}),
                ("get", f"/api/v1/posts/{post_id}/revisions", None),
                ("patch", f"/api/v1/topics/{topic_id}", {"pinned": True})):
            response = await client.request(method, path, json=body)
            assert response.status_code == 404, (method, path)
    # Starting a topic in another project with a category id of this one: refused.
    cross = await client.post("/api/v1/projects/acme/topics", json={
        "title": "Cross project", "source": "Body", "category_id": hidden.questions.id})
    assert cross.status_code == 422
    assert await snapshot() == before
    await login(world.maintainer)  # the team reads reports
    assert (await client.post(f"/api/v1/topics/{report['id']}/posts",
                              json={"source": "Thanks, looking."})).status_code == 201


async def test_delete_and_restore_permissions(client: httpx.AsyncClient, world: World,
                                              login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world)
    await login(world.outsider)
    answer = (await client.post(f"/api/v1/topics/{topic['id']}/posts",
                                json={"source": "An answer"})).json()
    await login(world.member)
    refused = await client.request("DELETE", f"/api/v1/posts/{answer['id']}", json={})
    assert refused.status_code == 403
    assert (await Post.get(id=answer["id"])).deleted_at is None
    await login(world.moderator)
    deleted = await client.request("DELETE", f"/api/v1/posts/{answer['id']}", json={})
    assert deleted.status_code == 204
    assert (await Post.get(id=answer["id"])).deleted_at is not None
    await login(world.outsider)  # the author cannot restore
    restore = await client.post(f"/api/v1/posts/{answer['id']}/restore", json={})
    assert restore.status_code == 403
    await login(world.member)  # nor can anyone else but moderators
    restore = await client.post(f"/api/v1/posts/{answer['id']}/restore", json={})
    assert restore.status_code == 403
    assert (await client.post(f"/api/v1/posts/{answer['id']}/vote",
                              json={"value": 1})).status_code == 404
    assert (await Post.get(id=answer["id"])).deleted_at is not None
    await login(world.moderator)
    restored = await client.post(f"/api/v1/posts/{answer['id']}/restore", json={})
    assert restored.status_code == 200 and restored.json()["deleted"] is False


async def test_edit_after_the_window_is_403(client: httpx.AsyncClient, world: World,
                                            login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world)
    post_id = topic["post"]["id"]
    await Post.filter(id=post_id).update(created_at=datetime.now(UTC) - timedelta(days=2))
    response = await client.patch(f"/api/v1/posts/{post_id}", json={"source": "Changed"})
    assert response.status_code == 403
    assert "edit" in response.json()["error"]["message"]
    assert (await Post.get(id=post_id)).source == "With **what**?"
    await login(world.outsider)
    other = await client.patch(f"/api/v1/posts/{post_id}", json={"source": "Changed"})
    assert other.status_code == 403


async def test_banned_users_cannot_post(client: httpx.AsyncClient, world: World,
                                        login: Login) -> None:
    key = "fk_" + secrets.token_urlsafe(30)
    await ApiKey.create(user_id=world.member.id, name="cli", prefix=key[:10],
                        key_hash=hash_api_key(key))
    body = {"title": "Posting with a key", "source": "Body", "category_id": world.questions.id}
    ok = await client.post("/api/v1/projects/acme/topics", json=body,
                           headers={"authorization": f"Bearer {key}"})
    assert ok.status_code == 201
    await User.filter(id=world.member.id).update(is_active=False)
    before = await snapshot()
    with_key = await client.post("/api/v1/projects/acme/topics", json=body,
                                 headers={"authorization": f"Bearer {key}"})
    assert with_key.status_code == 401
    await login(world.member)
    with_session = await client.post(f"/api/v1/topics/{ok.json()['id']}/posts",
                                     json={"source": "Still here?"})
    assert with_session.status_code == 401
    await login(None)
    anonymous = await client.post("/api/v1/projects/acme/topics", json=body)
    assert anonymous.status_code == 401
    assert await snapshot() == before


async def test_topic_patch_by_moderator_and_refused_for_members(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world)
    refused = await client.patch(f"/api/v1/topics/{topic['id']}", json={"locked": True})
    assert refused.status_code == 403
    retagged = await client.patch(f"/api/v1/topics/{topic['id']}", json={"tags": ["Dates"]})
    assert retagged.status_code == 200 and retagged.json()["tags"] == ["dates"]
    await login(world.moderator)
    patched = await client.patch(f"/api/v1/topics/{topic['id']}", json={
        "locked": True, "pinned": True, "state": "closed",
        "category_id": world.categories["ideas"].id})
    assert patched.status_code == 200
    body = patched.json()
    assert (body["locked"], body["pinned"], body["state"], body["category_id"]) == (
        True, True, "closed", world.categories["ideas"].id)
    bad_state = await client.patch(f"/api/v1/topics/{topic['id']}", json={"state": "gone"})
    assert bad_state.status_code == 422


async def test_category_management_api(client: httpx.AsyncClient, world: World,
                                       login: Login) -> None:
    await login(world.member)
    refused = await client.post("/api/v1/projects/acme/categories", json={"name": "Help"})
    assert refused.status_code == 403
    await login(world.owner)
    created = await client.post("/api/v1/projects/acme/categories",
                                json={"name": "Help", "color": "#00aa00",
                                      "post_access": "members"})
    assert created.status_code == 201
    category = created.json()
    assert (category["slug"], category["post_access"]) == ("help", "members")
    bad = await client.post("/api/v1/projects/acme/categories",
                            json={"name": "Bad", "color": "red"})
    assert bad.status_code == 422 and "color" in bad.json()["error"]["fields"]
    patched = await client.patch(f"/api/v1/projects/acme/categories/{category['id']}",
                                 json={"description": "Get help"})
    assert patched.json()["description"] == "Get help"
    ids = [world.questions.id, category["id"]]
    ordered = await client.put("/api/v1/projects/acme/categories/order", json={"ids": ids})
    order = [c["id"] for c in ordered.json()["categories"]]
    assert order[:2] == ids and len(order) == 6
    deleted = await client.request("DELETE", f"/api/v1/projects/acme/categories/{category['id']}",
                                   json={})
    assert deleted.status_code == 204


async def test_the_openapi_document_lists_the_write_api(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/v1/openapi.json")).json()
    paths = doc["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/projects/{slug}/topics"])
    assert "post" in paths["/api/v1/topics/{id}/posts"]
    assert "patch" in paths["/api/v1/posts/{id}"]
    assert "post" in paths["/api/v1/posts/{id}/vote"]
    assert "post" in paths["/api/v1/topics/{id}/accept"]
    assert "VoteIn" in doc["components"]["schemas"]


async def test_votes_via_api_change_and_withdraw(client: httpx.AsyncClient, world: World,
                                                 login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world)
    post_id = topic["post"]["id"]
    await login(world.outsider)
    for value, score in ((1, 1), (-1, -1), (0, 0)):
        response = await client.post(f"/api/v1/posts/{post_id}/vote", json={"value": value})
        assert response.json()["score"] == score
    assert not await Vote.exists(post_id=post_id)
    assert (await Topic.get(id=topic["id"])).score == 0


async def test_ids_out_of_range_are_404_or_422_never_500(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.moderator)
    huge = 10**15
    for method, path, body, status in (
            ("post", f"/api/v1/topics/{huge}/posts", {"source": "Hi"}, 404),
            ("patch", f"/api/v1/posts/{huge}", {"source": "Hi"}, 404),
            ("post", f"/api/v1/posts/{huge}/restore", {}, 404),
            ("get", f"/api/v1/posts/{huge}/revisions", None, 404),
            ("post", "/api/v1/projects/acme/topics",
             {"title": "Huge category id", "source": "Body", "category_id": huge}, 422)):
        response = await client.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.text)
    await login(world.owner)
    response = await client.patch(f"/api/v1/projects/acme/categories/{huge}",
                                  json={"name": "X"})
    assert response.status_code == 404


async def test_a_bad_patch_changes_nothing(client: httpx.AsyncClient, world: World,
                                           login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world)
    await login(world.moderator)
    response = await client.patch(f"/api/v1/topics/{topic['id']}", json={
        "title": "A title that must not stick", "pinned": True, "category_id": 999_999})
    assert response.status_code == 422
    stored = await Topic.get(id=topic["id"])
    assert (stored.title, stored.pinned) == (topic["title"], False)


async def test_markdown_the_cooker_refuses_is_422(client: httpx.AsyncClient, world: World,
                                                  login: Login) -> None:
    await login(world.member)
    topic = await new_topic(client, world)
    before = await snapshot()
    nested = "> " * 400 + "deep"
    for path, body in ((f"/api/v1/topics/{topic['id']}/posts", {"source": nested}),
                       ("/api/v1/projects/acme/topics",
                        {"title": "Nested quotes", "source": nested,
                         "category_id": world.questions.id}),
                       (f"/api/v1/posts/{topic['post']['id']}", {"source": nested})):
        method = "patch" if "/posts/" in path and "topics" not in path else "post"
        response = await client.request(method, path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert "source" in response.json()["error"]["fields"]
    assert await snapshot() == before
