"""The support inbox: queue order and filters, "take next" (race-safe), assignment with a
notification, bulk actions, the page and the API, and who may see any of it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from forum.platform import Platform
from forum.projects.permissions import access_project
from forum.support_queue import inbox
from forum.support_queue.models import Ticket, TicketState, Tier
from forum.support_queue.team_models import ActivityKind, SupportActivity
from forum.web.errors import Forbidden
from tests.support import Login, csrf_from
from tests.support_queue.conftest import World, make_world, open_ticket

JSON = {"content-type": "application/json"}


async def three_tickets(platform: Platform, world: World) -> list[Ticket]:
    """Oldest first; the free tier everywhere, so the queue is oldest-waiting first."""
    tickets = [await open_ticket(platform, world, title=f"Problem number {n}")
               for n in range(3)]
    base = datetime.now(UTC) - timedelta(days=3)
    for n, ticket in enumerate(tickets):
        await Ticket.filter(id=ticket.id).update(
            last_requester_reaction_at=base + timedelta(hours=n))
    return tickets


async def test_the_inbox_lists_the_queue_in_order(client: httpx.AsyncClient, login: Login,
                                                  platform: Platform, world: World) -> None:
    first, second, third = await three_tickets(platform, world)
    # A paid ticket goes first under the default fair policy.
    await Ticket.filter(id=third.id).update(tier=Tier.ENTERPRISE, amount_paid=50_000)
    await login(world.supporter)
    response = await client.get(f"/api/v1/projects/{world.project.slug}/inbox")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [t["id"] for t in body["tickets"]] == [third.id, first.id, second.id]
    assert [t["position"] for t in body["tickets"]] == [1, 2, 3]
    assert body["counts"]["all"] == 3 and body["counts"]["unassigned"] == 3
    assert body["tickets"][1]["reference"] == f"{world.project.slug.upper()}-{first.number}"
    assert body["tickets"][1]["requester"] == world.member.username
    page = await client.get(f"/p/{world.project.slug}/inbox")
    assert page.status_code == 200
    html = page.text
    assert html.index("Problem number 2") < html.index("Problem number 0") < html.index(
        "Problem number 1")


async def test_filters(client: httpx.AsyncClient, login: Login, platform: Platform,
                       world: World) -> None:
    mine, waiting, on_hold, breaching, other = [
        await open_ticket(platform, world, title=f"Ticket {n}") for n in range(5)]
    await Ticket.filter(id=mine.id).update(assignee_id=world.supporter.id,
                                           state=TicketState.ASSIGNED)
    await Ticket.filter(id=waiting.id).update(state=TicketState.WAITING)
    await Ticket.filter(id=on_hold.id).update(state=TicketState.ON_HOLD)
    await Ticket.filter(id=breaching.id).update(
        first_response_due_at=datetime.now(UTC) - timedelta(minutes=5),
        first_response_at=None)
    await Ticket.filter(id=other.id).update(
        first_response_due_at=datetime.now(UTC) + timedelta(days=30), first_response_at=None)
    await login(world.supporter)

    async def ids(which: str) -> list[int]:
        response = await client.get(f"/api/v1/projects/{world.project.slug}/inbox",
                                    params={"filter": which})
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["tickets"]]

    assert await ids("mine") == [mine.id]
    assert set(await ids("unassigned")) == {breaching.id, other.id}
    assert await ids("waiting") == [waiting.id]
    assert await ids("on_hold") == [on_hold.id]
    assert await ids("breaching") == [breaching.id]
    response = await client.get(f"/api/v1/projects/{world.project.slug}/inbox",
                                params={"filter": "breaching"})
    assert response.json()["tickets"][0]["breach"] == "breached"
    assert response.json()["counts"] == {"all": 3, "unassigned": 2, "mine": 1, "waiting": 1,
                                         "on_hold": 1, "breaching": 1}
    bad = await client.get(f"/api/v1/projects/{world.project.slug}/inbox",
                           params={"filter": "everything"})
    assert bad.status_code == 422
    assert (await client.get(f"/api/v1/projects/{world.project.slug}/inbox",
                             params={"limit": "0"})).status_code == 422
    page = await client.get(f"/p/{world.project.slug}/inbox?filter=waiting")
    assert "Ticket 1" in page.text and "Ticket 0" not in page.text


async def test_paging(client: httpx.AsyncClient, login: Login, platform: Platform,
                      world: World) -> None:
    tickets = await three_tickets(platform, world)
    await login(world.supporter)
    response = await client.get(f"/api/v1/projects/{world.project.slug}/inbox",
                                params={"limit": 2, "offset": 1})
    body = response.json()
    assert [t["id"] for t in body["tickets"]] == [tickets[1].id, tickets[2].id]
    assert [t["position"] for t in body["tickets"]] == [2, 3]


async def test_take_next_takes_the_top_unassigned(client: httpx.AsyncClient, login: Login,
                                                  platform: Platform, world: World) -> None:
    first, second, third = await three_tickets(platform, world)
    await Ticket.filter(id=first.id).update(assignee_id=world.owner.id,
                                            state=TicketState.ASSIGNED)
    await login(world.supporter)
    url = f"/api/v1/projects/{world.project.slug}/inbox/take-next"
    taken = await client.post(url, headers=JSON)
    assert taken.status_code == 200, taken.text
    assert taken.json()["id"] == second.id and taken.json()["assignee"] == world.supporter.username
    refreshed = await Ticket.get(id=second.id)
    assert refreshed.assignee_id == world.supporter.id  # type: ignore[attr-defined]
    assert refreshed.state == TicketState.ASSIGNED
    assert (await client.post(url, headers=JSON)).json()["id"] == third.id
    empty = await client.post(url, headers=JSON)
    assert empty.status_code == 409


async def test_two_supporters_taking_at_once_get_different_tickets(
        platform: Platform, world: World) -> None:
    await three_tickets(platform, world)
    supporter = await access_project(world.supporter, world.project.slug)
    owner = await access_project(world.owner, world.project.slug)
    a, b = await asyncio.gather(inbox.take_next(platform, supporter, world.supporter),
                                inbox.take_next(platform, owner, world.owner))
    assert a is not None and b is not None and a.id != b.id
    assignees = dict(await Ticket.filter(id__in=[a.id, b.id]).values_list("id", "assignee_id"))
    assert assignees == {a.id: world.supporter.id, b.id: world.owner.id}


async def test_take_next_page_form(client: httpx.AsyncClient, login: Login,
                                   platform: Platform, world: World) -> None:
    first, _, _ = await three_tickets(platform, world)
    await login(world.supporter)
    token = await csrf_from(client, f"/p/{world.project.slug}/inbox")
    response = await client.post(f"/p/{world.project.slug}/inbox/take-next",
                                 data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"].startswith(
        f"/p/{world.project.slug}/t/{first.topic_id}-")  # type: ignore[attr-defined]


async def test_bulk_assign_notifies_and_sets_priority_and_state(
        client: httpx.AsyncClient, login: Login, platform: Platform, world: World,
        run_jobs: Any, mailbox: Any) -> None:
    first, second, third = await three_tickets(platform, world)
    await login(world.owner)
    url = f"/api/v1/projects/{world.project.slug}/inbox/bulk"
    assigned = await client.post(url, json={"ticket_ids": [first.id, second.id],
                                            "action": "assign",
                                            "value": world.supporter.username})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json() == {"done": [first.id, second.id], "skipped": {}}
    assert {t.assignee_id for t in await Ticket.filter(  # type: ignore[attr-defined]
        id__in=[first.id, second.id])} == {world.supporter.id}
    await run_jobs()
    assert await SupportActivity.filter(user_id=world.supporter.id,
                                        kind=ActivityKind.ASSIGNED).count() == 2
    assert len([m for m in mailbox() if m["To"] == world.supporter.email
                and "assigned to you" in m["Subject"]]) == 2
    # Transfer to someone else.
    moved = await client.post(url, json={"ticket_ids": [first.id], "action": "assign",
                                         "value": world.maintainer.username})
    assert moved.json()["done"] == [first.id]
    assert (await Ticket.get(id=first.id)).assignee_id == world.maintainer.id  # type: ignore[attr-defined]
    priority = await client.post(url, json={"ticket_ids": [first.id, third.id],
                                            "action": "priority", "value": "1"})
    assert priority.json()["done"] == [first.id, third.id]
    assert {t.priority for t in await Ticket.filter(id__in=[first.id, third.id])} == {1}
    state = await client.post(url, json={"ticket_ids": [third.id], "action": "state",
                                         "value": "on_hold"})
    assert state.json()["done"] == [third.id]
    assert (await Ticket.get(id=third.id)).state == TicketState.ON_HOLD


async def test_bulk_refuses_bad_input_with_nothing_changed(
        client: httpx.AsyncClient, login: Login, platform: Platform, world: World) -> None:
    first, second, _ = await three_tickets(platform, world)
    other = await make_world()
    foreign = await open_ticket(platform, other)
    await login(world.owner)
    url = f"/api/v1/projects/{world.project.slug}/inbox/bulk"
    cases = [
        ({"ticket_ids": [first.id], "action": "assign", "value": world.member.username}, 422),
        ({"ticket_ids": [first.id], "action": "priority", "value": "9"}, 422),
        ({"ticket_ids": [first.id, second.id], "action": "state", "value": "assigned"}, 422),
        ({"ticket_ids": [first.id], "action": "explode", "value": ""}, 422),
        ({"ticket_ids": [], "action": "priority", "value": "1"}, 422),
        ({"ticket_ids": [first.id, foreign.id], "action": "priority", "value": "1"}, 404),
    ]
    for body, status in cases:
        response = await client.post(url, json=body)
        assert response.status_code == status, (body, response.text)
    untouched = await Ticket.filter(id__in=[first.id, second.id, foreign.id])
    assert {(t.assignee_id, t.priority, t.state) for t in untouched} == {  # type: ignore[attr-defined]
        (None, 3, TicketState.QUEUED)}


async def test_bulk_page_form(client: httpx.AsyncClient, login: Login, platform: Platform,
                              world: World) -> None:
    first, second, _ = await three_tickets(platform, world)
    await login(world.supporter)
    token = await csrf_from(client, f"/p/{world.project.slug}/inbox")
    response = await client.post(f"/p/{world.project.slug}/inbox/bulk", data={
        "csrf_token": token, "ticket_ids": [str(first.id), str(second.id)],
        "action": "priority", "priority_value": "2", "assign_value": "",
        "state_value": "solved"})
    assert response.status_code == 303
    assert {t.priority for t in await Ticket.filter(id__in=[first.id, second.id])} == {2}
    page = await client.get(response.headers["location"])
    assert "Updated 2 tickets." in page.text
    nothing = await client.post(f"/p/{world.project.slug}/inbox/bulk",
                                data={"csrf_token": token, "action": "priority"})
    assert nothing.status_code == 303


async def test_only_the_team_sees_the_inbox(client: httpx.AsyncClient, login: Login,
                                            platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    other = await make_world()
    slug = world.project.slug
    assert (await client.get(f"/p/{slug}/inbox")).status_code == 303  # log in first
    assert (await client.get(f"/api/v1/projects/{slug}/inbox")).status_code == 401
    for user in (world.member, world.outsider, other.owner, other.supporter):
        await login(user)
        assert (await client.get(f"/p/{slug}/inbox")).status_code == 403
        assert (await client.get(f"/api/v1/projects/{slug}/inbox")).status_code == 403
        assert (await client.post(f"/api/v1/projects/{slug}/inbox/take-next",
                                  headers=JSON)).status_code == 403
        bulk = await client.post(f"/api/v1/projects/{slug}/inbox/bulk", json={
            "ticket_ids": [ticket.id], "action": "priority", "value": "1"})
        assert bulk.status_code == 403
    # Another project's team cannot act on this ticket from their own inbox either.
    await login(other.owner)
    bulk = await client.post(f"/api/v1/projects/{other.project.slug}/inbox/bulk", json={
        "ticket_ids": [ticket.id], "action": "priority", "value": "1"})
    assert bulk.status_code == 404
    refreshed = await Ticket.get(id=ticket.id)
    assert (refreshed.priority, refreshed.assignee_id) == (3, None)  # type: ignore[attr-defined]
    member = await access_project(world.member, slug)
    with pytest.raises(Forbidden):
        await inbox.take_next(platform, member, world.member)


async def test_take_next_and_answer_from_a_template(client: httpx.AsyncClient, login: Login,
                                                    platform: Platform, world: World) -> None:
    """The supporter's round: take the next ticket, pick a template in its panel, post it."""
    from forum.support_queue.team_models import ResponseTemplate
    from forum.topics.models import Post

    first, _, _ = await three_tickets(platform, world)
    template = await ResponseTemplate.create(project=world.project, owner=None, name="Ack",
                                             body="Hello {requester_name}, about {reference}:")
    await login(world.supporter)
    token = await csrf_from(client, f"/p/{world.project.slug}/inbox")
    taken = await client.post(f"/p/{world.project.slug}/inbox/take-next",
                              data={"csrf_token": token})
    topic_id = first.topic_id  # type: ignore[attr-defined]
    assert f"/t/{topic_id}-" in taken.headers["location"]
    panel = await client.get(f"/p/{world.project.slug}/t/{topic_id}/ticket-panel")
    assert f'hx-get="/p/{world.project.slug}/t/{topic_id}/template-picker"' in panel.text
    assert f'hx-get="/p/{world.project.slug}/t/{topic_id}/notify-level"' in panel.text
    inserted = await client.get(f"/p/{world.project.slug}/t/{topic_id}/template-insert",
                                params={"template_id": template.id, "source": ""})
    text = inserted.text.split(">", 1)[1].rsplit("</textarea>", 1)[0]
    reference = f"{world.project.slug.upper()}-{first.number}"
    assert text == f"Hello {world.member.username}, about {reference}:"
    page = taken.headers["location"]
    token = await csrf_from(client, page)
    posted = await client.post(f"/p/{world.project.slug}/t/{topic_id}/reply",
                               data={"csrf_token": token, "source": text + " fixed in 2.2."})
    assert posted.status_code == 303, posted.text
    assert await Post.filter(topic_id=topic_id, author_id=world.supporter.id).count() == 1
    answered = await Ticket.get(id=first.id)
    assert answered.first_response_at is not None
    assert answered.assignee_id == world.supporter.id  # type: ignore[attr-defined]
    # The requester's panel offers no templates.
    await login(world.member)
    panel = await client.get(f"/p/{world.project.slug}/t/{topic_id}/ticket-panel")
    assert "template-picker" not in panel.text
