"""Every topics write verb asks the gates (forum/gates.py): a refusal is a 403 with the
refusing domain's reason, through the API and the forms, and nothing is stored; screening
blocks (422), rewrites or holds a text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from forum import events
from forum.gates import Act, Screening, Verdict
from forum.topics.models import Post, Tag, Topic, TopicState, Vote
from tests.support import Login, post_form
from tests.topics.conftest import World, make_world, snapshot
from tests.topics.gatekeeper import Gatekeeper

REASON = "You are silenced until Monday."


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await make_world("acme")


async def new_topic(client: httpx.AsyncClient, world: World, **fields: Any) -> httpx.Response:
    body = {"title": "How do I parse dates?", "source": "With **what** library?",
            "category_id": world.questions.id, **fields}
    return await client.post(f"/api/v1/projects/{world.project.slug}/topics", json=body)


async def topic_with_answer(client: httpx.AsyncClient, world: World, login: Login
                            ) -> tuple[dict[str, Any], dict[str, Any]]:
    await login(world.member)
    topic = (await new_topic(client, world)).json()
    await login(world.outsider)
    answer = (await client.post(f"/api/v1/topics/{topic['id']}/posts",
                                json={"source": "Use `dateutil`, it parses them."})).json()
    return topic, answer


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"]["message"] == REASON


async def test_starting_a_topic_asks_create_topic(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    await login(world.member)
    gatekeeper.refuse[Act.CREATE_TOPIC] = REASON
    before = await snapshot()
    assert_refused(await new_topic(client, world))
    form = await post_form(client, "/p/acme/new", {
        "title": "How do I parse dates?", "source": "With what?", "category": "questions"})
    assert form.status_code == 403 and REASON in form.text
    assert await snapshot() == before
    attempt = gatekeeper.attempts[-1]
    assert (attempt.act, attempt.user_id, attempt.project_id, attempt.is_staff) == (
        Act.CREATE_TOPIC, world.member.id, world.project.id, False)
    del gatekeeper.refuse[Act.CREATE_TOPIC]
    assert (await new_topic(client, world)).status_code == 201


async def test_the_team_is_asked_as_staff(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    await login(world.supporter)
    assert (await new_topic(client, world)).status_code == 201
    assert [a.is_staff for a in gatekeeper.attempts if a.act == Act.CREATE_TOPIC] == [True]


async def test_replying_asks_reply(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    await login(world.member)
    topic = (await new_topic(client, world)).json()
    await login(world.outsider)
    gatekeeper.refuse[Act.REPLY] = REASON
    before = await snapshot()
    assert_refused(await client.post(f"/api/v1/topics/{topic['id']}/posts",
                                     json={"source": "An answer."}))
    form = await post_form(client, f"/p/acme/t/{topic['id']}/reply",
                           {"source": "An answer."}, page="/p/acme/new")
    assert form.status_code == 403 and REASON in form.text
    assert await snapshot() == before
    attempt = gatekeeper.attempts[-1]
    assert (attempt.act, attempt.topic_id, attempt.target_user_id) == (
        Act.REPLY, topic["id"], world.member.id)


async def test_editing_asks_own_or_others(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    _topic, answer = await topic_with_answer(client, world, login)
    gatekeeper.refuse[Act.EDIT_OWN_POST] = REASON
    edit = {"source": "Use `dateutil.parser.isoparse`."}
    assert_refused(await client.patch(f"/api/v1/posts/{answer['id']}", json=edit))
    form = await post_form(client, f"/p/acme/posts/{answer['id']}/edit",
                           {"source": edit["source"], "reason": ""})
    assert form.status_code == 403 and REASON in form.text
    assert (await Post.get(id=answer["id"])).source == "Use `dateutil`, it parses them."
    # A moderator editing someone else's post asks for that, as staff; the own-post
    # refusal does not apply to them.
    await login(world.moderator)
    edited = await client.patch(f"/api/v1/posts/{answer['id']}", json=edit)
    assert edited.status_code == 200
    attempt = gatekeeper.attempts[-1]
    assert (attempt.act, attempt.is_staff, attempt.post_id, attempt.target_user_id) == (
        Act.EDIT_OTHERS_POST, True, answer["id"], world.outsider.id)
    gatekeeper.refuse[Act.EDIT_OTHERS_POST] = REASON
    assert_refused(await client.patch(f"/api/v1/posts/{answer['id']}",
                                      json={"source": "Something else entirely."}))


async def test_votes_ask_the_act_of_the_vote_even_when_withdrawn(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    _topic, answer = await topic_with_answer(client, world, login)
    await login(world.member)
    gatekeeper.refuse[Act.VOTE_DOWN] = REASON
    assert_refused(await client.post(f"/api/v1/posts/{answer['id']}/vote", json={"value": -1}))
    form = await post_form(client, f"/posts/{answer['id']}/vote", {"value": "-1"},
                           page="/p/acme/new")
    assert form.status_code == 303
    assert not await Vote.exists(post_id=answer["id"])
    up = await client.post(f"/api/v1/posts/{answer['id']}/vote", json={"value": 1})
    assert up.status_code == 200
    attempt = gatekeeper.attempts[-1]
    assert (attempt.act, attempt.post_id, attempt.target_user_id) == (
        Act.VOTE_UP, answer["id"], world.outsider.id)
    # Withdrawing the up vote asks VOTE_UP (a vote lock refuses it).
    gatekeeper.refuse[Act.VOTE_UP] = "Your vote is locked in."
    withdrawn = await client.post(f"/api/v1/posts/{answer['id']}/vote", json={"value": 0})
    assert withdrawn.status_code == 403
    assert withdrawn.json()["error"]["message"] == "Your vote is locked in."
    assert (await Vote.get(post_id=answer["id"])).value == 1
    del gatekeeper.refuse[Act.VOTE_UP]
    assert (await client.post(f"/api/v1/posts/{answer['id']}/vote",
                              json={"value": 0})).status_code == 200
    assert gatekeeper.attempts[-1].act == Act.VOTE_UP


async def test_accepting_asks_accept(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    topic, answer = await topic_with_answer(client, world, login)
    await login(world.member)
    gatekeeper.refuse[Act.ACCEPT] = REASON
    assert_refused(await client.post(f"/api/v1/topics/{topic['id']}/accept",
                                     json={"post_id": answer["id"]}))
    form = await post_form(client, f"/p/acme/t/{topic['id']}/accept",
                           {"post_id": str(answer["id"])}, page="/p/acme/new")
    assert form.status_code == 303
    assert (await Topic.get(id=topic["id"])).accepted_post_id is None


async def test_a_new_tag_asks_create_tag_and_existing_ones_do_not(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    await login(world.member)
    gatekeeper.refuse[Act.CREATE_TAG] = "Creating tags needs 150 reputation."
    refused = await new_topic(client, world, tags=["brand-new"])
    assert refused.status_code == 403
    assert "150 reputation" in refused.json()["error"]["message"]
    form = await post_form(client, "/p/acme/new", {
        "title": "How do I parse dates?", "source": "With what?", "category": "questions",
        "tags": "brand-new"})
    assert form.status_code == 403 and "150 reputation" in form.text
    assert not await Tag.exists(name="brand-new")
    await Tag.create(project_id=world.project.id, name="known")
    assert (await new_topic(client, world, tags=["known"])).status_code == 201


async def test_close_and_reopen_follow_the_privilege(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    await login(world.member)
    topic = (await new_topic(client, world)).json()
    await login(world.outsider)
    gatekeeper.refuse[Act.CLOSE_REOPEN] = "Closing needs 500 reputation."
    refused = await client.patch(f"/api/v1/topics/{topic['id']}", json={"state": "closed"})
    assert refused.status_code == 403
    form = await post_form(client, f"/p/acme/t/{topic['id']}/state", {"state": "closed"},
                           page="/p/acme/new")
    assert form.status_code == 303
    assert (await Topic.get(id=topic["id"])).state == TopicState.OPEN
    del gatekeeper.refuse[Act.CLOSE_REOPEN]  # now they hold the privilege
    closed = await client.patch(f"/api/v1/topics/{topic['id']}", json={"state": "closed"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert gatekeeper.attempts[-1].act == Act.CLOSE_REOPEN
    reopened = await post_form(client, f"/p/acme/t/{topic['id']}/state", {"state": "open"},
                               page="/p/acme/new")
    assert reopened.status_code == 303
    assert (await Topic.get(id=topic["id"])).state == TopicState.OPEN
    # The privilege never covers archiving, pinning or locking.
    for patch in ({"state": "archived"}, {"pinned": True}, {"locked": True}):
        denied = await client.patch(f"/api/v1/topics/{topic['id']}", json=patch)
        assert denied.status_code == 403, patch


# Screening


async def test_a_blocked_text_is_a_422_and_nothing_is_stored(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    await login(world.member)
    topic = (await new_topic(client, world)).json()
    gatekeeper.screening = Screening(Verdict.BLOCK, "Links to that site are not allowed.")
    before = await snapshot()
    blocked = await new_topic(client, world, title="Another question here")
    assert blocked.status_code == 422
    assert blocked.json()["error"]["message"] == "Links to that site are not allowed."
    reply = await client.post(f"/api/v1/topics/{topic['id']}/posts",
                              json={"source": "Spam spam."})
    assert reply.status_code == 422
    form = await post_form(client, "/p/acme/new", {
        "title": "Yet another question", "source": "Spam.", "category": "questions"})
    assert form.status_code == 422 and "not allowed" in form.text
    edit = await client.patch(f"/api/v1/posts/{topic['post']['id']}",
                              json={"source": "Spam instead."})
    assert edit.status_code == 422
    assert await snapshot() == before
    assert (await Post.get(id=topic["post"]["id"])).source == "With **what** library?"
    draft = gatekeeper.drafts[-1]
    assert (draft.post_id, draft.topic_id, draft.user_id, draft.ip) == (
        topic["post"]["id"], topic["id"], world.member.id, "127.0.0.1")


async def test_a_rewritten_text_is_stored_and_cooked(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper
) -> None:
    await login(world.member)
    gatekeeper.screening = Screening(Verdict.ALLOW, "", "With **which** library?")
    created = await new_topic(client, world)
    assert created.status_code == 201
    post = created.json()["post"]
    assert post["source"] == "With **which** library?"
    assert "<strong>which</strong>" in post["cooked"]
    gatekeeper.screening = Screening(Verdict.ALLOW, "", "A *kind* reply.")
    await login(world.outsider)
    reply = await client.post(f"/api/v1/topics/{created.json()['id']}/posts",
                              json={"source": "A rude reply."})
    assert reply.json()["source"] == "A *kind* reply."
    assert "<em>kind</em>" in reply.json()["cooked"]


async def test_a_held_topic_and_reply_are_stored_hidden(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper,
        emitted: list[events.Event]) -> None:
    await login(world.member)
    gatekeeper.screening = Screening(Verdict.HOLD, "First post with links.")
    created = await new_topic(client, world)
    assert created.status_code == 201
    assert created.json()["waiting_for_review"] is True
    assert created.json()["post"]["waiting_for_review"] is True
    topic = await Topic.get(id=created.json()["id"])
    opening = await Post.get(topic_id=topic.id, number=1)
    assert topic.hidden_at is not None and opening.hidden_at is not None
    assert opening.hidden_reason == "First post with links." and opening.held
    assert not [e for e in emitted if isinstance(e, events.TopicCreated)]
    hidden = [e for e in emitted if isinstance(e, events.PostHidden)]
    assert [(e.post_id, e.actor_id, e.reason) for e in hidden] == [
        (opening.id, None, "First post with links.")]

    gatekeeper.screening = None
    visible = (await new_topic(client, world, title="A visible question",
                               source="A different body.")).json()
    gatekeeper.screening = Screening(Verdict.HOLD, "Watched word.")
    await login(world.outsider)
    reply = await client.post(f"/api/v1/topics/{visible['id']}/posts",
                              json={"source": "Held reply."})
    assert reply.status_code == 201 and reply.json()["waiting_for_review"] is True
    stored = await Topic.get(id=visible["id"])
    assert stored.reply_count == 0 and stored.last_poster_id == world.member.id  # type: ignore[attr-defined]
    assert not [e for e in emitted if isinstance(e, events.PostCreated)]


async def test_a_held_edit_hides_the_post(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper,
        emitted: list[events.Event]) -> None:
    topic, answer = await topic_with_answer(client, world, login)
    gatekeeper.screening = Screening(Verdict.HOLD, "Edited to add a link.")
    form = await post_form(client, f"/p/acme/posts/{answer['id']}/edit",
                           {"source": "See https://example.com/spam", "reason": ""})
    assert form.status_code == 303
    post = await Post.get(id=answer["id"])
    assert post.hidden_at is not None and post.source == "See https://example.com/spam"
    assert not post.held
    assert [e.post_id for e in emitted if isinstance(e, events.PostHidden)] == [answer["id"]]
    assert not [e for e in emitted if isinstance(e, events.PostEdited)]
    assert (await Topic.get(id=topic["id"])).reply_count == 0
