"""The tickets API: the round trip from opening to solving, and every permission boundary
(readers, other requesters, other projects' teams), with nothing stored on a refusal."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from forum.gates import Act
from forum.projects.models import Role
from forum.support_queue.models import Ticket, TicketNote, TicketState, Tier
from forum.topics.models import Topic
from tests.factories import add_member, make_user
from tests.support import Login
from tests.support_queue.conftest import World, make_world
from tests.topics.gatekeeper import Gatekeeper

_seq = itertools.count(1)


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await make_world("acme")


async def new_ticket(client: httpx.AsyncClient, slug: str = "acme", **fields: Any
                     ) -> dict[str, Any]:
    body = {"title": "Exports fail with a timeout",
            "source": f"Version 3.{next(_seq)}, every export.", **fields}
    response = await client.post(f"/api/v1/projects/{slug}/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_open_answer_and_solve_a_ticket(client: httpx.AsyncClient, world: World,
                                              login: Login) -> None:
    await login(world.member)
    ticket = await new_ticket(client)
    assert ticket["reference"] == "ACME-1" and ticket["state"] == "queued"
    assert ticket["requester"]["username"] == world.member.username
    assert ticket["tier"] == "free" and ticket["priority"] == 3 and ticket["amount_paid"] == 0
    assert ticket["url"].startswith(f"/p/acme/t/{ticket['topic_id']}-")
    assert ticket["first_response_due_at"] is None and ticket["submitted_at"] is not None
    assert ticket["queue_position"] == 1 and ticket["expected_response"]

    await login(world.supporter)
    assigned = await client.post(f"/api/v1/tickets/{ticket['id']}/assign",
                                 json={"assignee": world.supporter.username})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["state"] == "assigned"
    assert assigned.json()["assignee"]["username"] == world.supporter.username
    reply = await client.post(f"/api/v1/topics/{ticket['topic_id']}/posts",
                              json={"source": "Which database do you use?"})
    assert reply.status_code == 201
    got = (await client.get(f"/api/v1/tickets/{ticket['id']}")).json()
    assert got["first_response_at"] is not None
    waiting = await client.post(f"/api/v1/tickets/{ticket['id']}/state",
                                json={"state": "waiting"})
    assert waiting.json()["state"] == "waiting"

    await login(world.member)
    answer = await client.post(f"/api/v1/topics/{ticket['topic_id']}/posts",
                               json={"source": "PostgreSQL 16."})
    assert answer.status_code == 201
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}")).json()["state"] == "assigned"
    solved = await client.post(f"/api/v1/tickets/{ticket['id']}/state",
                               json={"state": "solved"})
    assert solved.status_code == 200 and solved.json()["state"] == "solved"
    assert solved.json()["solved_at"] is not None
    reopened = await client.post(f"/api/v1/tickets/{ticket['id']}/state",
                                 json={"state": "reopen"})
    assert reopened.json()["state"] == "assigned"


async def test_team_patches_tier_priority_payment_and_assignee(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    ticket = await new_ticket(client)
    await login(world.maintainer)
    patched = await client.patch(f"/api/v1/tickets/{ticket['id']}", json={
        "priority": 1, "tier": "enterprise", "amount_paid": 250_000, "currency": "EUR",
        "assignee": world.supporter.username})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["priority"], body["tier"], body["amount_paid"], body["currency"]) == (
        1, "enterprise", 250_000, "EUR")
    assert body["assignee"]["username"] == world.supporter.username
    stored = await Ticket.get(id=ticket["id"])
    assert stored.tier == Tier.ENTERPRISE and stored.state == TicketState.ASSIGNED


@pytest.mark.parametrize("body", [
    {"priority": 0}, {"priority": 6}, {"tier": "gold"}, {"amount_paid": -1},
    {"currency": "usd"}, {"assignee": "nobody-here"}, {"unknown": 1}, {"priority": "high"},
])
async def test_bad_patches_are_refused_and_change_nothing(
        client: httpx.AsyncClient, world: World, login: Login, body: dict[str, Any]) -> None:
    await login(world.member)
    ticket = await new_ticket(client)
    await login(world.maintainer)
    response = await client.patch(f"/api/v1/tickets/{ticket['id']}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"]
    stored = await Ticket.get(id=ticket["id"])
    assert (stored.priority, stored.tier, stored.amount_paid, stored.currency) == (
        3, Tier.FREE, 0, "USD")
    assert stored.assignee_id is None  # type: ignore[attr-defined]


async def test_assigning_someone_off_the_team_is_refused(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    ticket = await new_ticket(client)
    await login(world.supporter)
    for name in (world.member.username, world.outsider.username):
        response = await client.post(f"/api/v1/tickets/{ticket['id']}/assign",
                                     json={"assignee": name})
        assert response.status_code == 422
    assert (await Ticket.get(id=ticket["id"])).assignee_id is None  # type: ignore[attr-defined]


async def test_readers_may_not_patch_assign_note_or_set_team_states(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    ticket = await new_ticket(client)
    tid = ticket["id"]
    for user in (world.outsider, world.member):  # a reader, and the requester herself
        await login(user)
        assert (await client.patch(f"/api/v1/tickets/{tid}", json={"priority": 1})
                ).status_code == 403
        assert (await client.post(f"/api/v1/tickets/{tid}/assign",
                                  json={"assignee": world.supporter.username})).status_code == 403
        assert (await client.post(f"/api/v1/tickets/{tid}/notes",
                                  json={"source": "secret"})).status_code == 403
        assert (await client.get(f"/api/v1/tickets/{tid}/notes")).status_code == 403
        assert (await client.post(f"/api/v1/tickets/{tid}/state",
                                  json={"state": "on_hold"})).status_code == 403
    await login(world.outsider)
    assert (await client.post(f"/api/v1/tickets/{tid}/state",
                              json={"state": "solved"})).status_code == 403
    stored = await Ticket.get(id=tid)
    assert stored.priority == 3 and stored.state == TicketState.QUEUED
    assert await TicketNote.all().count() == 0


async def test_anonymous_reads_public_tickets_but_writes_nothing(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    ticket = await new_ticket(client)
    client.cookies.clear()
    got = await client.get(f"/api/v1/tickets/{ticket['id']}")
    assert got.status_code == 200 and got.json()["reference"] == "ACME-1"
    assert (await client.post("/api/v1/projects/acme/tickets",
                              json={"title": "Anonymous one", "source": "text"})).status_code == 401
    assert (await client.post(f"/api/v1/tickets/{ticket['id']}/state",
                              json={"state": "solved"})).status_code == 401
    assert await Ticket.all().count() == 1


async def test_a_private_ticket_is_not_found_for_others(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    ticket = await new_ticket(client, is_private=True)
    assert ticket["is_private"]
    other_requester = await make_user()
    await add_member(world.project, other_requester)
    for user in (other_requester, world.outsider):
        await login(user)
        assert (await client.get(f"/api/v1/tickets/{ticket['id']}")).status_code == 404
        assert (await client.get(f"/api/v1/topics/{ticket['topic_id']}")).status_code == 404
        assert (await client.post(f"/api/v1/tickets/{ticket['id']}/state",
                                  json={"state": "closed"})).status_code == 404
        page = await client.get(ticket["url"])
        assert page.status_code == 404
        panel = await client.get(f"/p/acme/t/{ticket['topic_id']}/ticket-panel")
        assert panel.status_code == 404
    client.cookies.clear()
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}")).status_code == 404
    await login(world.supporter)
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}")).status_code == 200


async def test_another_projects_team_has_no_say(client: httpx.AsyncClient, world: World,
                                                login: Login) -> None:
    other = await make_world("other")
    await login(world.member)
    public = await new_ticket(client)
    private = await new_ticket(client, title="Private billing question", is_private=True)
    await login(other.owner)
    assert (await client.get(f"/api/v1/tickets/{private['id']}")).status_code == 404
    assert (await client.patch(f"/api/v1/tickets/{private['id']}",
                               json={"priority": 1})).status_code == 404
    assert (await client.patch(f"/api/v1/tickets/{public['id']}",
                                json={"priority": 1})).status_code == 403
    assert (await client.post(f"/api/v1/tickets/{public['id']}/assign",
                              json={"assignee": other.owner.username})).status_code == 403
    assert (await client.post(f"/api/v1/tickets/{public['id']}/notes",
                              json={"source": "hi"})).status_code == 403
    # The right team may not assign the other project's owner either.
    await login(world.owner)
    assert (await client.post(f"/api/v1/tickets/{public['id']}/assign",
                              json={"assignee": other.owner.username})).status_code == 422
    assert (await Ticket.get(id=public["id"])).priority == 3


async def test_notes_are_for_the_team_only(client: httpx.AsyncClient, world: World,
                                           login: Login) -> None:
    await login(world.member)
    ticket = await new_ticket(client)
    await login(world.supporter)
    added = await client.post(f"/api/v1/tickets/{ticket['id']}/notes",
                              json={"source": "Customer is on **enterprise** trial."})
    assert added.status_code == 201
    assert "<strong>enterprise</strong>" in added.json()["cooked"]
    listed = (await client.get(f"/api/v1/tickets/{ticket['id']}/notes")).json()["notes"]
    assert [n["author"]["username"] for n in listed] == [world.supporter.username]
    bad = await client.post(f"/api/v1/tickets/{ticket['id']}/notes", json={"source": "  "})
    assert bad.status_code == 422
    assert await TicketNote.all().count() == 1
    await login(world.member)
    page = await client.get(ticket["url"])
    panel = await client.get(f"/p/acme/t/{ticket['topic_id']}/ticket-panel")
    assert "enterprise" not in page.text and "enterprise" not in panel.text


async def test_drafts_submit_after_terms_are_accepted(
        client: httpx.AsyncClient, world: World, login: Login, gatekeeper: Gatekeeper) -> None:
    gatekeeper.refuse[Act.OPEN_TICKET] = "Accept the project's terms first."
    await login(world.member)
    ticket = await new_ticket(client)
    assert ticket["state"] == "draft" and ticket["draft_reason"] == (
        "Accept the project's terms first.")
    assert ticket["queue_position"] is None
    refused = await client.post(f"/api/v1/tickets/{ticket['id']}/submit", json={})
    assert refused.status_code == 403
    assert "terms" in refused.json()["error"]["message"]
    gatekeeper.refuse.clear()
    await login(world.supporter)
    assert (await client.post(f"/api/v1/tickets/{ticket['id']}/submit", json={})).status_code == 403
    await login(world.member)
    submitted = await client.post(f"/api/v1/tickets/{ticket['id']}/submit", json={})
    assert submitted.status_code == 200 and submitted.json()["state"] == "queued"
    assert submitted.json()["draft_reason"] is None
    again = await client.post(f"/api/v1/tickets/{ticket['id']}/submit", json={})
    assert again.status_code == 409


async def test_a_draft_is_hidden_from_readers(client: httpx.AsyncClient, world: World,
                                              login: Login) -> None:
    await login(world.member)
    draft = await new_ticket(client, submit=False)
    assert draft["state"] == "draft"
    await login(world.outsider)
    assert (await client.get(f"/api/v1/tickets/{draft['id']}")).status_code == 404
    await login(world.supporter)
    assert (await client.get(f"/api/v1/tickets/{draft['id']}")).status_code == 200


@pytest.mark.parametrize("body", [
    {}, {"title": "abc", "source": "x"}, {"title": "A fine title", "source": "   "},
    {"title": "A fine title", "source": "text", "priority": 1},
    {"title": "A fine title", "source": "text", "is_private": "maybe"},
])
async def test_bad_tickets_are_refused_and_nothing_is_stored(
        client: httpx.AsyncClient, world: World, login: Login, body: dict[str, Any]) -> None:
    await login(world.member)
    response = await client.post("/api/v1/projects/acme/tickets", json=body)
    assert response.status_code == 422
    assert await Ticket.all().count() == 0 and await Topic.all().count() == 0


async def test_malformed_bodies_and_unknown_ids(client: httpx.AsyncClient, world: World,
                                                login: Login) -> None:
    await login(world.member)
    response = await client.post("/api/v1/projects/acme/tickets", content=b"{nope",
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400
    for path in ("/api/v1/tickets/999999", "/api/v1/tickets/99999999999"):
        assert (await client.get(path)).status_code == 404
    assert (await client.post("/api/v1/tickets/1/state", json={"state": "lost"})
            ).status_code == 422
    assert (await client.post("/api/v1/projects/nope/tickets",
                              json={"title": "A fine title", "source": "text"})).status_code == 404


async def test_convert_a_question_to_a_ticket_and_back(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    asked = await client.post("/api/v1/projects/acme/topics", json={
        "title": "Why does the export time out?", "source": "Every night.",
        "category_id": world.questions.id})
    topic_id = asked.json()["id"]
    await login(world.outsider)
    refused = await client.post(f"/api/v1/topics/{topic_id}/convert", json={"to": "ticket"})
    assert refused.status_code == 403
    await login(world.member)
    converted = await client.post(f"/api/v1/topics/{topic_id}/convert", json={"to": "ticket"})
    assert converted.status_code == 200, converted.text
    ticket_id = converted.json()["ticket_id"]
    ticket = await Ticket.get(id=ticket_id)
    assert ticket.state == TicketState.QUEUED and ticket.requester_id == world.member.id  # type: ignore[attr-defined]
    assert (await Topic.get(id=topic_id)).kind == "ticket"
    again = await client.post(f"/api/v1/topics/{topic_id}/convert", json={"to": "ticket"})
    assert again.status_code == 409
    await login(world.supporter)
    back = await client.post(f"/api/v1/topics/{topic_id}/convert", json={"to": "question"})
    assert back.status_code == 200 and back.json()["ticket_id"] is None
    assert (await Topic.get(id=topic_id)).kind == "question"
    assert (await Ticket.get(id=ticket_id)).state == TicketState.CLOSED
    forth = await client.post(f"/api/v1/topics/{topic_id}/convert", json={"to": "ticket"})
    assert forth.json()["ticket_id"] == ticket_id
    assert (await Ticket.get(id=ticket_id)).state == TicketState.QUEUED
    assert (await client.post(f"/api/v1/topics/{topic_id}/convert", json={"to": "bug"})
            ).status_code == 422


async def test_a_supporter_added_later_is_team(client: httpx.AsyncClient, world: World,
                                               login: Login) -> None:
    await login(world.member)
    ticket = await new_ticket(client)
    helper = await make_user()
    await add_member(world.project, helper, Role.SUPPORTER)
    await login(world.owner)
    response = await client.post(f"/api/v1/tickets/{ticket['id']}/assign",
                                 json={"assignee": helper.username})
    assert response.status_code == 200


async def test_the_requester_edits_a_draft_then_submits_it(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    draft = await new_ticket(client, submit=False)
    topic = (await client.get(f"/api/v1/topics/{draft['topic_id']}")).json()
    opening = topic["posts"][0]["id"]
    edited = await client.patch(f"/api/v1/posts/{opening}",
                                json={"source": "Version 3.2.1 on Debian 12, every export."})
    assert edited.status_code == 200, edited.text
    submitted = await client.post(f"/api/v1/tickets/{draft['id']}/submit", json={})
    assert submitted.status_code == 200 and submitted.json()["state"] == "queued"


async def test_a_ticket_started_in_the_composer_gets_its_record(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    created = await client.post("/api/v1/projects/acme/topics", json={
        "title": "Login page loops forever", "source": "Since this morning.",
        "category_id": world.questions.id, "kind": "ticket"})
    assert created.status_code == 201, created.text
    ticket = await Ticket.get(topic_id=created.json()["id"])
    assert ticket.state == TicketState.QUEUED and ticket.number == 1
    assert ticket.requester_id == world.member.id  # type: ignore[attr-defined]
    got = (await client.get(f"/api/v1/tickets/{ticket.id}")).json()
    assert got["reference"] == "ACME-1" and got["queue_position"] == 1
