"""The queue API and the queue settings page: who may read and change what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from forum.projects.models import Role, Visibility
from forum.support_queue.models import TicketState
from forum.support_queue.queue import load_queue_settings
from tests.factories import add_member, make_project, make_user
from tests.support import Login, post_form
from tests.support_queue.conftest import World
from tests.support_queue.test_queue_sql import NOW, add_ticket


async def _queue(world: World) -> list[int]:
    """Three tickets: a free one that waited long, a subscription, an enterprise."""
    free = await add_ticket(world.project, world.member, waited_minutes=900)
    paid = await add_ticket(world.project, world.member, tier="subscription",
                            amount_paid=1000, assignee=world.supporter,
                            state=TicketState.ASSIGNED)
    top = await add_ticket(world.project, world.member, tier="enterprise", amount_paid=5000)
    await add_ticket(world.project, world.member, state=TicketState.DRAFT)
    return [top.id, paid.id, free.id]


async def test_the_team_reads_the_queue_in_order(client: httpx.AsyncClient, world: World,
                                                 login: Login) -> None:
    order = await _queue(world)
    for user in (world.supporter, world.owner, world.maintainer):
        await login(user)
        response = await client.get(f"/api/v1/projects/{world.project.slug}/queue")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["policy"] == "fair" and body["total"] == 3
        assert [(e["position"], e["ticket_id"]) for e in body["entries"]] == [
            (1, order[0]), (2, order[1]), (3, order[2])]
        first = body["entries"][0]
        assert first["reference"].startswith(world.project.slug.upper() + "-")
        assert first["tier"] == "enterprise" and first["requester"] == world.member.username
        assert first["url"].startswith(f"/p/{world.project.slug}/t/")
    await login(world.supporter)
    page = (await client.get(f"/api/v1/projects/{world.project.slug}/queue",
                             params={"limit": 1, "offset": 1})).json()
    assert [(e["position"], e["ticket_id"]) for e in page["entries"]] == [(2, order[1])]
    mine = (await client.get(f"/api/v1/projects/{world.project.slug}/queue",
                             params={"filter": "mine"})).json()
    assert [(e["position"], e["ticket_id"]) for e in mine["entries"]] == [(2, order[1])]
    free = (await client.get(f"/api/v1/projects/{world.project.slug}/queue",
                             params={"filter": "free"})).json()
    assert [e["ticket_id"] for e in free["entries"]] == [order[2]]


async def test_bad_paging_is_a_422(client: httpx.AsyncClient, world: World,
                                   login: Login) -> None:
    await login(world.supporter)
    for params in ({"limit": "0"}, {"limit": "x"}, {"offset": "-1"}, {"filter": "nope"},
                   {"limit": "101"}):
        response = await client.get(f"/api/v1/projects/{world.project.slug}/queue",
                                    params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["code"]


async def test_outsiders_may_not_read_the_queue(client: httpx.AsyncClient, world: World,
                                                login: Login) -> None:
    await _queue(world)
    path = f"/api/v1/projects/{world.project.slug}/queue"
    await login(None)
    assert (await client.get(path)).status_code == 401
    for user in (world.member, world.outsider):
        await login(user)
        response = await client.get(path)
        assert response.status_code == 403
        assert "entries" not in response.json()
    # The team of another project: forbidden here (a members-only project: not found).
    other = await make_project(owner=await make_user())
    stranger = await make_user()
    await add_member(other, stranger, Role.SUPPORTER)
    await login(stranger)
    assert (await client.get(path)).status_code == 403
    private = await make_project(owner=await make_user(), default_visibility=Visibility.MEMBERS)
    await login(world.supporter)
    response = await client.get(f"/api/v1/projects/{private.slug}/queue")
    assert response.status_code == 404


async def test_leads_change_the_queue_settings(client: httpx.AsyncClient, world: World,
                                               login: Login) -> None:
    path = f"/api/v1/projects/{world.project.slug}/support/queue"
    await login(world.owner)
    assert (await client.get(path)).json() == {
        "enabled": True, "unpaid_share": 20, "window_days": 30, "breach_lead_minutes": 120,
        "minimum_response_minutes": 0}
    response = await client.put(path, json={"enabled": False, "unpaid_share": 35,
                                             "minimum_response_minutes": 240})
    assert response.status_code == 200, response.text
    stored = await load_queue_settings(world.project.id)
    assert (stored.enabled, stored.unpaid_share, stored.minimum_response_minutes,
            stored.window_days) == (False, 35, 240, 30)
    bad = await client.put(path, json={"unpaid_share": 101})
    assert bad.status_code == 422 and "unpaid_share" in bad.json()["error"]["fields"]
    assert (await client.put(path, json={"surprise": 1})).status_code == 422
    assert (await load_queue_settings(world.project.id)).unpaid_share == 35
    await _queue(world)
    await login(world.supporter)
    listing = (await client.get(f"/api/v1/projects/{world.project.slug}/queue")).json()
    assert listing["policy"] == "oldest-first"


async def test_only_leads_touch_the_queue_settings(client: httpx.AsyncClient, world: World,
                                                   login: Login) -> None:
    path = f"/api/v1/projects/{world.project.slug}/support/queue"
    for user in (world.supporter, world.maintainer, world.member, world.outsider):
        await login(user)
        assert (await client.get(path)).status_code == 403
        assert (await client.put(path, json={"unpaid_share": 90})).status_code == 403
    assert (await load_queue_settings(world.project.id)).unpaid_share == 20
    await login(world.supporter)
    page = await client.get(f"/p/{world.project.slug}/settings/support/queue")
    assert page.status_code == 403


async def test_the_settings_page_saves(client: httpx.AsyncClient, world: World,
                                       login: Login) -> None:
    path = f"/p/{world.project.slug}/settings/support/queue"
    await login(None)
    assert (await client.get(path)).status_code == 303
    await login(world.owner)
    page = await client.get(path)
    assert page.status_code == 200 and 'name="unpaid_share" value="20"' in page.text
    assert "Policy in use: <strong>fair</strong>" in page.text
    saved = await post_form(client, path, {
        "unpaid_share": "25", "window_days": "14", "breach_lead_minutes": "60",
        "minimum_response_minutes": "30"})
    assert saved.status_code == 303
    stored = await load_queue_settings(world.project.id)
    assert (stored.enabled, stored.unpaid_share, stored.window_days) == (False, 25, 14)
    again = await post_form(client, path, {
        "enabled": "true", "unpaid_share": "250", "window_days": "14",
        "breach_lead_minutes": "60", "minimum_response_minutes": "30"})
    assert again.status_code == 422 and 'class="error"' in again.text
    assert (await load_queue_settings(world.project.id)).unpaid_share == 25
    fixed = await post_form(client, path, {
        "enabled": "true", "unpaid_share": "30", "window_days": "14",
        "breach_lead_minutes": "60", "minimum_response_minutes": "30"})
    assert fixed.status_code == 303
    assert (await load_queue_settings(world.project.id)).enabled


async def test_the_queue_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert "get" in paths["/api/v1/projects/{slug}/queue"]
    assert {"get", "put"} <= set(paths["/api/v1/projects/{slug}/support/queue"])


async def test_breach_jump_shows_in_the_api(client: httpx.AsyncClient, world: World,
                                            login: Login) -> None:
    rich = await add_ticket(world.project, world.member, tier="enterprise", amount_paid=9999)
    soon = datetime.now(UTC) + timedelta(minutes=30) - NOW  # due half an hour from now
    due = await add_ticket(world.project, world.member, tier="enterprise", amount_paid=1,
                           due_in=int(soon.total_seconds() // 60))
    await login(world.supporter)
    body = (await client.get(f"/api/v1/projects/{world.project.slug}/queue")).json()
    assert [e["ticket_id"] for e in body["entries"]] == [due.id, rich.id]
    assert body["entries"][0]["due_at"] is not None
