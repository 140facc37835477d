"""Triage tools (moderators and leads): move, change kind, merge, split, close with a reason;
through the API and the forms, with the permission boundaries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from forum import events
from forum.platform import Platform
from forum.topics.models import Category, Post, Topic, TopicKind, TopicState
from forum.topics.triage import closed_notice, merged_target
from tests.support import Login, post_form
from tests.topics.conftest import World, make_world, snapshot


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await make_world("acme")


async def new_topic(client: httpx.AsyncClient, world: World, title: str,
                    source: str = "What is the best way?") -> dict[str, Any]:
    response = await client.post("/api/v1/projects/acme/topics", json={
        "title": title, "source": source, "category_id": world.questions.id})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def add_reply(client: httpx.AsyncClient, topic: dict[str, Any], source: str
                    ) -> dict[str, Any]:
    response = await client.post(f"/api/v1/topics/{topic['id']}/posts", json={"source": source})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def changes(emitted: list[events.Event]) -> list[tuple[int, int | None, str]]:
    return [(e.topic_id, e.actor_id, e.change) for e in emitted
            if isinstance(e, events.TopicChanged)]


ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("move", {"category_id": 0}), ("kind", {"kind": "discussion"}),
    ("merge", {"target_id": 0}), ("split", {"post_ids": [0], "title": "Split topic here"}),
    ("close", {"reason": "off_topic"})]


async def test_triage_is_for_this_projects_moderators_only(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    other = await make_world("other")
    await login(world.member)
    topic = await new_topic(client, world, "The topic to triage")
    target = await new_topic(client, world, "The target topic", "Another body.")
    reply = await add_reply(client, topic, "A reply to split.")
    before = await snapshot()
    bodies = dict(ACTIONS)
    bodies["move"] = {"category_id": world.categories["ideas"].id}
    bodies["merge"] = {"target_id": target["id"]}
    bodies["split"] = {"post_ids": [reply["id"]], "title": "Split topic here"}
    for user in (world.member, world.outsider, world.supporter, other.moderator, other.owner):
        await login(user)
        for action, body in bodies.items():
            response = await client.post(f"/api/v1/topics/{topic['id']}/{action}", json=body)
            assert response.status_code == 403, (user.username, action, response.text)
            form = await post_form(client, f"/p/acme/t/{topic['id']}/{action}",
                                   {"target": str(target["id"]), "kind": "discussion",
                                    "category": "ideas", "posts": "2",
                                    "title": "Split topic here", "reason": "off_topic"},
                                   page="/p/acme/new")
            assert form.status_code == 303, action
    await login(None)
    anonymous = await client.post(f"/api/v1/topics/{topic['id']}/close",
                                  json={"reason": "off_topic"})
    assert anonymous.status_code == 401
    assert await snapshot() == before
    stored = await Topic.get(id=topic["id"])
    assert (stored.state, stored.kind, stored.category_id) == (  # type: ignore[attr-defined]
        TopicState.OPEN, TopicKind.QUESTION, world.questions.id)


async def test_move_and_change_kind(
        client: httpx.AsyncClient, world: World, login: Login,
        emitted: list[events.Event]) -> None:
    await login(world.member)
    topic = await new_topic(client, world, "Crash when saving files")
    await login(world.maintainer)
    moved = await client.post(f"/api/v1/topics/{topic['id']}/move",
                              json={"category_id": world.categories["bug-reports"].id})
    assert moved.status_code == 200 and moved.json()["category_id"] == world.categories[
        "bug-reports"].id
    kind = await client.post(f"/api/v1/topics/{topic['id']}/kind", json={"kind": "bug_report"})
    assert kind.status_code == 200 and kind.json()["kind"] == "bug_report"
    assert not kind.json()["is_private"]
    secret = await post_form(client, f"/p/acme/t/{topic['id']}/kind",
                             {"kind": "security_report"}, page="/p/acme/new")
    assert secret.status_code == 303
    stored = await Topic.get(id=topic["id"])
    assert stored.kind == TopicKind.SECURITY_REPORT and stored.is_private
    await login(world.outsider)
    assert (await client.get(f"/api/v1/topics/{topic['id']}")).status_code == 404
    await login(world.member)  # the author still reads it
    assert (await client.get(f"/api/v1/topics/{topic['id']}")).status_code == 200
    await login(world.moderator)
    back = await client.post(f"/api/v1/topics/{topic['id']}/kind", json={"kind": "question"})
    assert back.json()["is_private"] is False
    # A private category keeps its topics security reports.
    await client.post(f"/api/v1/topics/{topic['id']}/move",
                      json={"category_id": world.categories["security"].id})
    refused = await client.post(f"/api/v1/topics/{topic['id']}/kind",
                                json={"kind": "discussion"})
    assert refused.status_code == 422
    unknown = await client.post(f"/api/v1/topics/{topic['id']}/kind", json={"kind": "poem"})
    assert unknown.status_code == 422
    actors = {world.maintainer.id, world.moderator.id}
    assert [c for _, a, c in changes(emitted) if a in actors] == [
        "moved", "kind", "kind", "kind", "moved"]


async def test_merge_moves_posts_and_redirects(
        platform: Platform, client: httpx.AsyncClient, world: World, login: Login,
        emitted: list[events.Event]) -> None:
    await login(world.member)
    target = await new_topic(client, world, "How do I parse dates?")
    await add_reply(client, target, "Target reply one.")
    duplicate = await new_topic(client, world, "Parsing dates, how?", "Dates, please.")
    await login(world.outsider)
    dup_reply = await add_reply(client, duplicate, "Use dateutil.")
    await login(world.moderator)
    merged = await client.post(f"/api/v1/topics/{duplicate['id']}/merge",
                               json={"target_id": target["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == target["id"] and merged.json()["reply_count"] == 3
    numbers = await Post.filter(topic_id=target["id"]).order_by("number").values_list(
        "id", "number")
    assert numbers == [(target["post"]["id"], 1), (numbers[1][0], 2),
                       (duplicate["post"]["id"], 3), (dup_reply["id"], 4)]
    stored = await Topic.get(id=duplicate["id"])
    assert stored.merged_into_id == target["id"] and stored.deleted_at is not None
    assert changes(emitted)[-2:] == [(duplicate["id"], world.moderator.id, "merged"),
                                     (target["id"], world.moderator.id, "merged")]
    # The duplicate's address leads to the target for anyone who reads the target.
    anonymous = await world.viewer(None)
    found = await merged_target(anonymous, world.project, duplicate["id"])
    assert found is not None and found.id == target["id"]
    assert await merged_target(anonymous, world.project, target["id"]) is None
    await login(world.member)
    listed = (await client.get("/api/v1/projects/acme/topics")).json()["items"]
    assert [t["id"] for t in listed] == [target["id"]]
    assert (await Category.get(id=world.questions.id)).topic_count == 1
    # Merging again, into itself, or restoring the duplicate is refused.
    await login(world.moderator)
    again = await client.post(f"/api/v1/topics/{duplicate['id']}/merge",
                              json={"target_id": target["id"]})
    assert again.status_code == 409
    itself = await client.post(f"/api/v1/topics/{target['id']}/merge",
                               json={"target_id": target["id"]})
    assert itself.status_code == 422
    restore = await client.post(f"/api/v1/topics/{duplicate['id']}/restore", json={})
    assert restore.status_code == 409, restore.text


async def test_merge_form_and_unreadable_targets(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    other = await make_world("other")
    await login(other.member)
    foreign = (await client.post("/api/v1/projects/other/topics", json={
        "title": "Elsewhere entirely", "source": "Body.",
        "category_id": other.questions.id})).json()
    await login(world.member)
    duplicate = await new_topic(client, world, "Parsing dates, how?")
    target = await new_topic(client, world, "How do I parse dates?", "Another body.")
    await login(world.moderator)
    refused = await client.post(f"/api/v1/topics/{duplicate['id']}/merge",
                                json={"target_id": foreign["id"]})
    assert refused.status_code == 422
    form = await post_form(client, f"/p/acme/t/{duplicate['id']}/merge",
                           {"target": f"http://testserver/p/acme/t/{target['id']}-how"},
                           page="/p/acme/new")
    assert form.status_code == 303 and form.headers["location"].startswith(
        f"/p/acme/t/{target['id']}")
    assert (await Topic.get(id=duplicate["id"])).merged_into_id == target["id"]


async def test_split_moves_replies_into_a_new_topic(
        client: httpx.AsyncClient, world: World, login: Login,
        emitted: list[events.Event]) -> None:
    await login(world.member)
    topic = await new_topic(client, world, "How do I parse dates?")
    await login(world.outsider)
    first = await add_reply(client, topic, "Use dateutil.")
    off = await add_reply(client, topic, "Unrelated: how do I install it on Windows?")
    await login(world.member)
    accepted = await client.post(f"/api/v1/topics/{topic['id']}/accept",
                                 json={"post_id": off["id"]})
    assert accepted.status_code == 200
    off_2 = await add_reply(client, topic, "Windows: use pip.")
    await login(world.moderator)
    refused = await client.post(f"/api/v1/topics/{topic['id']}/split", json={
        "post_ids": [topic["post"]["id"]], "title": "Install on Windows"})
    assert refused.status_code == 422
    split = await client.post(f"/api/v1/topics/{topic['id']}/split", json={
        "post_ids": [off_2["id"], off["id"]], "title": "Installing it on Windows",
        "category_id": world.categories["ideas"].id})
    assert split.status_code == 201, split.text
    new = split.json()
    assert new["title"] == "Installing it on Windows" and new["author"] == world.outsider.username
    assert new["category_id"] == world.categories["ideas"].id and new["reply_count"] == 1
    moved = await Post.filter(topic_id=new["id"]).order_by("number").values_list("id", "number")
    assert moved == [(off["id"], 1), (off_2["id"], 2)]
    source = await Topic.get(id=topic["id"])
    assert source.reply_count == 1 and source.accepted_post_id is None
    assert source.state == TopicState.OPEN
    assert await Post.filter(topic_id=topic["id"]).order_by("number").values_list(
        "id", flat=True) == [topic["post"]["id"], first["id"]]
    assert changes(emitted)[-2:] == [(topic["id"], world.moderator.id, "split"),
                                     (new["id"], world.moderator.id, "split")]
    # The form takes post numbers.
    form = await post_form(client, f"/p/acme/t/{topic['id']}/split",
                           {"posts": "2", "title": "Dateutil discussion", "category": ""},
                           page="/p/acme/new")
    assert form.status_code == 303
    assert (await Post.get(id=first["id"])).number == 1
    bad = await post_form(client, f"/p/acme/t/{topic['id']}/split",
                          {"posts": "two", "title": "Anything at all"}, page="/p/acme/new")
    assert bad.status_code == 303 and bad.headers["location"].startswith(
        f"/p/acme/t/{topic['id']}")


async def test_close_with_a_reason(
        platform: Platform, client: httpx.AsyncClient, world: World, login: Login,
        emitted: list[events.Event]) -> None:
    await login(world.member)
    original = await new_topic(client, world, "How do I parse dates?")
    topic = await new_topic(client, world, "Parsing dates, how?", "Dates?")
    await login(world.moderator)
    path = f"/api/v1/topics/{topic['id']}/close"
    for body, field in (({"reason": "duplicate"}, "duplicate_of"),
                        ({"reason": "duplicate", "duplicate_of": topic["id"]}, "duplicate_of"),
                        ({"reason": "resolved_elsewhere", "url": "javascript:alert(1)"}, "url"),
                        ({"reason": "other"}, "note")):
        refused = await client.post(path, json=body)
        assert refused.status_code == 422, body
        assert field in refused.json()["error"]["fields"], body
    assert (await Topic.get(id=topic["id"])).state == TopicState.OPEN
    closed = await client.post(path, json={"reason": "duplicate",
                                           "duplicate_of": original["id"]})
    assert closed.status_code == 200
    assert (closed.json()["state"], closed.json()["close_reason"],
            closed.json()["duplicate_of_id"]) == ("closed", "duplicate", original["id"])
    stored = await Topic.get(id=topic["id"])
    notice = await closed_notice(await world.viewer(None), world.project, stored)
    assert notice is not None and notice.link_text == "How do I parse dates?"
    assert changes(emitted)[-1] == (topic["id"], world.moderator.id, "closed")
    # Reopening forgets the reason; the form closes with another.
    reopened = await client.patch(f"/api/v1/topics/{topic['id']}", json={"state": "open"})
    assert reopened.json()["close_reason"] is None
    form = await post_form(client, f"/p/acme/t/{topic['id']}/close", {
        "reason": "resolved_elsewhere", "url": "https://github.com/acme/lib/issues/7"},
        page="/p/acme/new")
    assert form.status_code == 303
    stored = await Topic.get(id=topic["id"])
    assert (stored.close_reason, stored.close_detail) == (
        "resolved_elsewhere", "https://github.com/acme/lib/issues/7")
    notice = await closed_notice(await world.viewer(None), world.project, stored)
    assert notice is not None and notice.link_href == "https://github.com/acme/lib/issues/7"


async def test_the_triage_and_closed_templates_render(
        platform: Platform, client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    created = await new_topic(client, world, "How do I parse dates?")
    topic = await Topic.get(id=created["id"])
    categories = list(world.categories.values())
    html = platform.templates.get_template("topics/_triage.html").render({
        "topic": topic, "project": world.project, "categories": categories,
        "csrf_token": "tok"})
    for action in ("move", "kind", "merge", "split", "close"):
        assert f'action="/p/acme/t/{topic.id}/{action}"' in html
    assert html.count('name="csrf_token" value="tok"') == 5
    assert 'value="questions" selected' in html and "style=" not in html
    await Topic.filter(id=topic.id).update(state=TopicState.CLOSED, close_reason="other",
                                           close_detail="Asked <b>elsewhere</b>.")
    await topic.refresh_from_db()
    assert "/state" in platform.templates.get_template("topics/_triage.html").render({
        "topic": topic, "project": world.project, "categories": categories,
        "csrf_token": "tok"})
    notice = await closed_notice(await world.viewer(None), world.project, topic)
    shown = platform.templates.get_template("topics/_closed_notice.html").render(
        {"closed_notice": notice})
    assert "Closed." in shown and "Asked &lt;b&gt;elsewhere&lt;/b&gt;." in shown
