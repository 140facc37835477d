"""The tickets' pages: the new-ticket form, the panel on the ticket page for each kind of
viewer, its forms, the convert button, the ticket settings, and search."""

from __future__ import annotations

import httpx
import pytest

from forum.support_queue.models import (
    SupportSettings,
    Ticket,
    TicketNote,
    TicketState,
    Tier,
)
from forum.topics.models import Topic
from tests.support import Login, post_form
from tests.support_queue.conftest import World, make_world


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await make_world("acme")


async def open_by_form(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    data = {"title": "The importer skips rows", "source": "Version 1.4: row 3 vanishes.",
            "action": "submit", **fields}
    return await post_form(client, "/p/acme/tickets/new", data)


async def ticket_page(client: httpx.AsyncClient, ticket: Ticket) -> tuple[str, str]:
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    page = await client.get(f"/p/acme/t/{topic.id}-{topic.slug}")
    panel = await client.get(f"/p/acme/t/{topic.id}/ticket-panel")
    assert page.status_code == 200 and panel.status_code == 200
    return page.text, panel.text


async def test_a_requester_opens_a_ticket_and_sees_where_it_stands(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await SupportSettings.create(project_id=world.project.id,
                                 guidelines="Always include **your version**.")
    await login(world.member)
    form = await client.get("/p/acme/tickets/new")
    assert form.status_code == 200 and "<strong>your version</strong>" in form.text
    response = await open_by_form(client)
    assert response.status_code == 303
    ticket = await Ticket.get(project_id=world.project.id)
    assert ticket.state == TicketState.QUEUED
    assert response.headers["location"].startswith(f"/p/acme/t/{ticket.topic_id}-")  # type: ignore[attr-defined]
    page, panel = await ticket_page(client, ticket)
    assert 'class="ticket-panel"' in page and "ACME-1 is in the support queue" in page
    assert "ACME-1" in panel and "In the queue" in panel
    assert "Position 1 in the queue" in panel and "Expected response:" in panel
    assert "Mark solved" in panel
    assert "Assign to" not in panel and "Internal notes" not in panel


async def test_the_team_sees_due_times_assignment_and_notes(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    await open_by_form(client)
    ticket = await Ticket.get(project_id=world.project.id)
    await login(world.supporter)
    _, panel = await ticket_page(client, ticket)
    for text in ("Assign to", "First response due", "Internal notes", "Set state"):
        assert text in panel
    topic_id = ticket.topic_id  # type: ignore[attr-defined]
    page = f"/p/acme/t/{topic_id}/ticket-panel"
    base = f"/p/acme/t/{topic_id}/ticket"
    assert (await post_form(client, f"{base}/assign", {"assignee": world.supporter.username},
                            page=page)).status_code == 303
    assert (await post_form(client, f"{base}/state", {"state": "on_hold"},
                            page=page)).status_code == 303
    assert (await post_form(client, f"{base}/worth", {
        "priority": "2", "tier": "subscription", "amount_paid": "9900"}, page=page)
    ).status_code == 303
    assert (await post_form(client, f"{base}/notes", {"source": "Call them Monday."},
                            page=page)).status_code == 303
    stored = await Ticket.get(id=ticket.id)
    assert stored.assignee_id == world.supporter.id  # type: ignore[attr-defined]
    assert stored.state == TicketState.ON_HOLD and stored.paused_at is not None
    assert (stored.priority, stored.tier, stored.amount_paid) == (2, Tier.SUBSCRIPTION, 9900)
    _, panel = await ticket_page(client, ticket)
    assert "Call them Monday." in panel

    await login(world.member)
    page_html, panel = await ticket_page(client, ticket)
    assert "Call them Monday." not in panel and "Call them Monday." not in page_html


async def test_panel_forms_refuse_readers_and_change_nothing(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    await open_by_form(client)
    ticket = await Ticket.get(project_id=world.project.id)
    topic_id = ticket.topic_id  # type: ignore[attr-defined]
    base = f"/p/acme/t/{topic_id}/ticket"
    await login(world.outsider)
    page = f"/p/acme/t/{topic_id}/ticket-panel"
    for path, data in ((f"{base}/assign", {"assignee": world.supporter.username}),
                       (f"{base}/state", {"state": "solved"}),
                       (f"{base}/worth", {"priority": "1"}),
                       (f"{base}/notes", {"source": "sneaky"}),
                       (f"{base}/visibility", {"is_private": "1"})):
        response = await post_form(client, path, data, page="/p/acme/tickets/new")
        assert response.status_code == 303
        followed = await client.get(response.headers["location"])
        assert "may" in followed.text  # the refusal is flashed
    stored = await Ticket.get(id=ticket.id)
    assert stored.state == TicketState.QUEUED and stored.priority == 3
    assert stored.assignee_id is None and await TicketNote.all().count() == 0  # type: ignore[attr-defined]
    assert not (await Topic.get(id=topic_id)).is_private
    panel = await client.get(page)
    assert "Assign to" not in panel.text and "Mark solved" not in panel.text


async def test_the_requester_makes_a_ticket_private(client: httpx.AsyncClient, world: World,
                                                    login: Login) -> None:
    await login(world.member)
    await open_by_form(client)
    ticket = await Ticket.get(project_id=world.project.id)
    topic_id = ticket.topic_id  # type: ignore[attr-defined]
    response = await post_form(client, f"/p/acme/t/{topic_id}/ticket/visibility",
                               {"is_private": "1"}, page=f"/p/acme/t/{topic_id}/ticket-panel")
    assert response.status_code == 303
    assert (await Topic.get(id=topic_id)).is_private
    await login(world.outsider)
    assert (await client.get(f"/p/acme/t/{topic_id}")).status_code == 404
    assert (await client.get(f"/p/acme/t/{topic_id}/ticket-panel")).status_code == 404


async def test_bad_forms_are_shown_again_and_store_nothing(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    response = await open_by_form(client, title="abc", source="   ")
    assert response.status_code == 422
    assert "A title needs at least" in response.text
    assert await Ticket.all().count() == 0 and await Topic.all().count() == 0


async def test_anonymous_visitors_are_sent_to_log_in(client: httpx.AsyncClient,
                                                     world: World) -> None:
    response = await client.get("/p/acme/tickets/new")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_a_saved_draft_shows_its_submit_button_to_the_requester(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    response = await open_by_form(client, action="draft")
    assert response.status_code == 303
    ticket = await Ticket.get(project_id=world.project.id)
    assert ticket.state == TicketState.DRAFT
    _, panel = await ticket_page(client, ticket)
    assert "Submit ticket" in panel and "draft" in panel
    topic_id = ticket.topic_id  # type: ignore[attr-defined]
    submitted = await post_form(client, f"/p/acme/t/{topic_id}/ticket/submit", {},
                                page=f"/p/acme/t/{topic_id}/ticket-panel")
    assert submitted.status_code == 303
    assert (await Ticket.get(id=ticket.id)).state == TicketState.QUEUED


async def test_the_convert_button_for_the_asker_and_the_team(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.member)
    created = await client.post("/api/v1/projects/acme/topics", json={
        "title": "How do I import a CSV file?", "source": "With headers.",
        "category_id": world.questions.id})
    topic_id = created.json()["id"]
    control = await client.get(f"/p/acme/t/{topic_id}/convert-control")
    assert "Turn into a support ticket" in control.text
    await login(world.outsider)
    control = await client.get(f"/p/acme/t/{topic_id}/convert-control")
    assert "Turn into" not in control.text
    await login(world.supporter)
    response = await post_form(client, f"/p/acme/t/{topic_id}/convert", {"to": "ticket"},
                               page=f"/p/acme/t/{topic_id}/convert-control")
    assert response.status_code == 303
    assert (await Topic.get(id=topic_id)).kind == "ticket"
    assert await Ticket.exists(topic_id=topic_id)


async def test_ticket_settings_are_for_leads(client: httpx.AsyncClient, world: World,
                                             login: Login) -> None:
    await login(world.supporter)
    assert (await client.get("/p/acme/settings/support/tickets")).status_code == 403
    await login(world.owner)
    response = await post_form(client, "/p/acme/settings/support/tickets",
                               {"private_by_default": "1", "guidelines": "Say your version."})
    assert response.status_code == 303
    settings = await SupportSettings.get(project_id=world.project.id)
    assert settings.private_by_default and settings.guidelines == "Say your version."
    too_long = await post_form(client, "/p/acme/settings/support/tickets",
                               {"guidelines": "x" * 20_001})
    assert too_long.status_code == 422
    assert (await SupportSettings.get(project_id=world.project.id)).guidelines == (
        "Say your version.")


async def test_private_tickets_stay_out_of_others_search(
        client: httpx.AsyncClient, world: World, login: Login, run_jobs: object) -> None:
    await login(world.member)
    await open_by_form(client, title="Quarterly invoice zebrafish mismatch", is_private="1")
    await run_jobs()  # type: ignore[operator]
    hits = (await client.get("/api/v1/projects/acme/search?q=zebrafish")).json()["hits"]
    assert len(hits) == 1
    for user in (world.outsider, None):
        await login(user)
        found = await client.get("/api/v1/projects/acme/search?q=zebrafish")
        assert found.status_code == 200 and found.json()["hits"] == []
        page = await client.get("/p/acme/search?q=zebrafish")
        assert "zebrafish" not in page.text.split("</form>")[-1]
    await login(world.supporter)
    assert len((await client.get("/api/v1/projects/acme/search?q=zebrafish")).json()["hits"]) == 1


async def test_a_ticket_in_another_project_is_not_found_under_this_slug(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    other = await make_world("other")
    await login(world.member)
    await open_by_form(client)
    ticket = await Ticket.get(project_id=world.project.id)
    await login(other.owner)
    topic_id = ticket.topic_id  # type: ignore[attr-defined]
    assert (await client.get(f"/p/other/t/{topic_id}/ticket-panel")).status_code == 404


async def test_the_project_home_links_to_help_and_my_tickets_lists_only_mine(
        client: httpx.AsyncClient, world: World, login: Login) -> None:
    home = await client.get("/p/acme")
    assert "/p/acme/tickets/new" in home.text and "/p/acme/tickets\"" not in home.text
    await login(world.member)
    await open_by_form(client)
    await open_by_form(client, title="A draft about exports", source="Exports hang.",
                       action="draft")
    await login(world.outsider)
    await open_by_form(client, title="Someone else's problem", source="Mine, not yours.")
    await login(world.member)
    home = await client.get("/p/acme")
    assert 'href="/p/acme/tickets"' in home.text
    assert "/p/acme/settings/support/tickets" not in home.text
    mine = await client.get("/p/acme/tickets")
    assert mine.status_code == 200
    assert "ACME-1" in mine.text and "ACME-2" in mine.text and "Draft" in mine.text
    assert "ACME-3" not in mine.text and "Someone else" not in mine.text
    await login(world.owner)
    assert "/p/acme/settings/support/tickets" in (await client.get("/p/acme")).text
    client.cookies.clear()
    assert (await client.get("/p/acme/tickets")).status_code == 303
