"""Business calendar and SLA settings: pages and API, validation and who may see or change
them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from forum.platform import Platform
from forum.projects.models import Role
from forum.support_queue.models import Ticket, Tier
from forum.support_queue.sla import refresh_ticket
from forum.support_queue.sla_models import BusinessCalendar, SlaPolicy, SlaSettings
from tests.factories import add_member, make_project, make_user
from tests.support import Login, post_form
from tests.support_queue.conftest import World, open_ticket

CALENDAR = {"time_zone": "Europe/Berlin",
            "hours": {"mon": ["13:00-17:00", "09:00-12:00"], "tue": ["09:00-17:00"],
                      "fri": ["09:00-15:00"]},
            "holidays": [{"date": "2020-12-25", "yearly": True, "name": "Christmas"},
                         {"date": "2026-05-14", "name": "Ascension"}]}


def api(world: World, what: str) -> str:
    return f"/api/v1/projects/{world.project.slug}/support/{what}"


async def delete(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """As an API client does (a JSON request: no CSRF token with the session cookie)."""
    return await client.request("DELETE", url, headers={"content-type": "application/json"})


def page(world: World, what: str) -> str:
    return f"/p/{world.project.slug}/settings/support/{what}"


# Calendar API


async def test_calendar_defaults_to_the_projects_zone(client: httpx.AsyncClient, world: World,
                                                      login: Login) -> None:
    await world.project.__class__.filter(id=world.project.id).update(time_zone="Asia/Tokyo")
    await login(world.supporter)
    response = await client.get(api(world, "calendar"))
    assert response.status_code == 200
    assert response.json() == {
        "time_zone": "Asia/Tokyo", "is_default": True, "holidays": [],
        "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
                  "thu": ["09:00-17:00"], "fri": ["09:00-17:00"], "sat": [], "sun": []}}


async def test_owner_saves_a_calendar(client: httpx.AsyncClient, world: World, login: Login
                                      ) -> None:
    await login(world.owner)
    response = await client.put(api(world, "calendar"), json=CALENDAR)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["is_default"] is False
    assert body["hours"]["mon"] == ["09:00-12:00", "13:00-17:00"]  # sorted
    assert body["hours"]["wed"] == []
    assert body["holidays"] == [
        {"date": "2026-05-14", "yearly": False, "name": "Ascension"},
        {"date": "2020-12-25", "yearly": True, "name": "Christmas"}]
    row = await BusinessCalendar.get(project_id=world.project.id)
    assert row.time_zone == "Europe/Berlin"
    assert (await client.get(api(world, "calendar"))).json() == body
    assert (await delete(client, api(world, "calendar"))).status_code == 204
    assert await BusinessCalendar.filter(project_id=world.project.id).count() == 0


async def test_bad_calendars_are_422_with_field_messages(client: httpx.AsyncClient,
                                                         world: World, login: Login) -> None:
    await login(world.owner)
    bad = {"time_zone": "Europe/Atlantis",
           "hours": {"mon": ["09:00-12:00", "11:30-14:00"], "tue": ["22:00-02:00"],
                     "wed": ["9 to 5"]}}
    response = await client.put(api(world, "calendar"), json=bad)
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert fields["time_zone"] == "Unknown time zone 'Europe/Atlantis'."
    assert fields["hours.mon"] == "09:00-12:00 and 11:30-14:00 overlap."
    assert "cannot cross midnight" in fields["hours.tue"]
    assert "09:00-17:00" in fields["hours.wed"]
    nothing = await client.put(api(world, "calendar"), json={"time_zone": "UTC", "hours": {}})
    assert nothing.json()["error"]["fields"]["hours"].startswith("Give at least one")
    twice = await client.put(api(world, "calendar"), json={
        "time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]},
        "holidays": [{"date": "2026-01-01"}, {"date": "2026-01-01", "name": "again"}]})
    assert twice.json()["error"]["fields"] == {"holidays.1": "2026-01-01 is listed twice."}
    malformed = await client.put(api(world, "calendar"), json={
        "time_zone": "UTC", "hours": {"mon": ["09:00-17:00"]}, "holidays": [{"date": "soon"}]})
    assert malformed.status_code == 422
    assert "holidays.0.date" in malformed.json()["error"]["fields"]
    assert await BusinessCalendar.filter(project_id=world.project.id).count() == 0


async def test_calendar_permissions(client: httpx.AsyncClient, world: World, login: Login
                                    ) -> None:
    other_lead = await make_user()
    other = await make_project(owner=await make_user())
    await add_member(other, other_lead, Role.LEAD)
    await login(None)
    assert (await client.get(api(world, "calendar"))).status_code == 401
    for user in (world.member, world.outsider, other_lead):
        await login(user)
        assert (await client.get(api(world, "calendar"))).status_code == 403
        assert (await client.put(api(world, "calendar"), json=CALENDAR)).status_code == 403
        assert (await delete(client, api(world, "calendar"))).status_code == 403
    # the team reads it; only owners and leads change it
    for user in (world.supporter, world.maintainer):
        await login(user)
        assert (await client.get(api(world, "calendar"))).status_code == 200
        assert (await client.put(api(world, "calendar"), json=CALENDAR)).status_code == 403
    assert await BusinessCalendar.filter(project_id=world.project.id).count() == 0
    await add_member(world.project, lead := await make_user(), Role.LEAD)
    await login(lead)
    assert (await client.put(api(world, "calendar"), json=CALENDAR)).status_code == 200


# SLA API


async def test_sla_defaults(client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.supporter)
    body = (await client.get(api(world, "sla"))).json()
    assert body["warning_lead_minutes"] == 60
    assert body["priority_names"] == ["Everything is down", "Badly degraded",
                                      "Something is broken", "A question", "A request"]
    assert len(body["policies"]) == 20
    assert body["policies"][0] == {"tier": "enterprise", "priority": 1,
                                   "first_response_minutes": 60, "next_response_minutes": 120,
                                   "is_default": True}
    free = [p for p in body["policies"] if p["tier"] == "free"]
    assert {(p["first_response_minutes"], p["next_response_minutes"]) for p in free} == {
        (None, None)}


async def test_owner_replaces_the_sla(client: httpx.AsyncClient, world: World, login: Login
                                      ) -> None:
    await login(world.owner)
    response = await client.put(api(world, "sla"), json={
        "priority_names": ["Fire", "Smoke", "Bug", "Question", "Wish"],
        "warning_lead_minutes": 90,
        "policies": [
            {"tier": "enterprise", "priority": 1, "first_response_minutes": 30,
             "next_response_minutes": 60},
            {"tier": "free", "priority": 3, "first_response_minutes": 4800},
            {"tier": "subscription", "priority": 1, "first_response_minutes": 240,
             "next_response_minutes": 480},  # the default: not stored
        ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["priority_names"][0] == "Fire" and body["warning_lead_minutes"] == 90
    by_key = {(p["tier"], p["priority"]): p for p in body["policies"]}
    assert by_key[("enterprise", 1)]["first_response_minutes"] == 30
    assert by_key[("enterprise", 1)]["is_default"] is False
    assert by_key[("free", 3)]["first_response_minutes"] == 4800
    assert by_key[("free", 3)]["next_response_minutes"] is None
    assert by_key[("subscription", 1)]["is_default"] is True
    assert await SlaPolicy.filter(project_id=world.project.id).count() == 2
    settings = await SlaSettings.get(project_id=world.project.id)
    assert settings.warning_lead_minutes == 90
    # a second PUT replaces, it does not merge
    await client.put(api(world, "sla"), json={"policies": []})
    assert await SlaPolicy.filter(project_id=world.project.id).count() == 0
    assert (await client.get(api(world, "sla"))).json()["priority_names"][0] == (
        "Everything is down")


async def test_bad_sla_is_422(client: httpx.AsyncClient, world: World, login: Login) -> None:
    await login(world.owner)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"policies": [{"tier": "enterprise", "priority": 1,
                        "first_response_minutes": -5}]}, "policies.0.first_response_minutes"),
        ({"policies": [{"tier": "enterprise", "priority": 6}]}, "policies.0.priority"),
        ({"policies": [{"tier": "gold", "priority": 1}]}, "policies.0.tier"),
        ({"warning_lead_minutes": -1}, "warning_lead_minutes"),
        ({"priority_names": ["Only one"]}, "priority_names"),
        ({"priority_names": ["A", "B", " ", "D", "E"]}, "priority_names"),
        ({"policies": [{"tier": "free", "priority": 2}, {"tier": "free", "priority": 2}]},
         "policies.1"),
    ]
    for payload, field in cases:
        response = await client.put(api(world, "sla"), json=payload)
        assert response.status_code == 422, payload
        assert field in response.json()["error"]["fields"], (payload, response.json())
    assert await SlaSettings.filter(project_id=world.project.id).count() == 0


async def test_sla_permissions(client: httpx.AsyncClient, world: World, login: Login) -> None:
    other = await make_project(owner=(other_owner := await make_user()))
    assert other.id != world.project.id
    for user in (world.member, world.outsider, other_owner):
        await login(user)
        assert (await client.get(api(world, "sla"))).status_code == 403
        assert (await client.put(api(world, "sla"), json={})).status_code == 403
    await login(world.supporter)
    assert (await client.put(api(world, "sla"), json={})).status_code == 403
    assert await SlaSettings.filter(project_id=world.project.id).count() == 0


async def test_changing_the_sla_moves_open_tickets_due_times(
        client: httpx.AsyncClient, platform: Platform, world: World, login: Login,
        run_jobs: Any) -> None:
    ticket = await open_ticket(platform, world)
    monday = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    await Ticket.filter(id=ticket.id).update(tier=Tier.ENTERPRISE, priority=1,
                                             submitted_at=monday,
                                             last_requester_reaction_at=monday)
    await refresh_ticket(ticket.id)
    await run_jobs()
    assert (await Ticket.get(id=ticket.id)).first_response_due_at == datetime(
        2026, 3, 2, 10, 0, tzinfo=UTC)
    await login(world.owner)
    await client.put(api(world, "sla"), json={"policies": [
        {"tier": "enterprise", "priority": 1, "first_response_minutes": 30}]})
    await run_jobs()
    assert (await Ticket.get(id=ticket.id)).first_response_due_at == datetime(
        2026, 3, 2, 9, 30, tzinfo=UTC)
    await client.put(api(world, "calendar"), json={"time_zone": "America/New_York",
                                                   "hours": {"mon": ["09:00-17:00"]}})
    await run_jobs()
    assert (await Ticket.get(id=ticket.id)).first_response_due_at == datetime(
        2026, 3, 2, 14, 30, tzinfo=UTC)


async def test_openapi_documents_the_settings(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert set(paths["/api/v1/projects/{slug}/support/calendar"]) == {"get", "put", "delete"}
    assert set(paths["/api/v1/projects/{slug}/support/sla"]) == {"get", "put"}


# Pages


async def test_calendar_page_round_trip(client: httpx.AsyncClient, world: World, login: Login
                                        ) -> None:
    await login(world.owner)
    form = await client.get(page(world, "calendar"))
    assert form.status_code == 200
    assert 'name="hours_mon" value="09:00-17:00"' in form.text
    assert "No calendar saved yet" in form.text
    assert 'aria-current="page">Business calendar' in form.text
    saved = await post_form(client, page(world, "calendar"), {
        "time_zone": "America/New_York", "hours_mon": "09:00-12:00, 13:00-17:00",
        "hours_tue": "", "hours_wed": "08:00-16:00", "hours_thu": "", "hours_fri": "",
        "hours_sat": "", "hours_sun": "",
        "holidays": "2026-07-03 Independence Day (observed)\n2020-12-25 yearly Christmas\n"})
    assert saved.status_code == 303
    row = await BusinessCalendar.get(project_id=world.project.id)
    assert row.time_zone == "America/New_York"
    assert row.hours["mon"] == ["09:00-12:00", "13:00-17:00"]
    assert row.holidays == [
        {"date": "2026-07-03", "yearly": False, "name": "Independence Day (observed)"},
        {"date": "2020-12-25", "yearly": True, "name": "Christmas"}]
    shown = await client.get(page(world, "calendar"))
    assert "2020-12-25 yearly Christmas" in shown.text
    assert 'value="08:00-16:00"' in shown.text
    reset = await post_form(client, page(world, "calendar"), {"reset": "1"})
    assert reset.status_code == 303
    assert await BusinessCalendar.filter(project_id=world.project.id).count() == 0


async def test_calendar_page_shows_errors(client: httpx.AsyncClient, world: World,
                                          login: Login) -> None:
    await login(world.owner)
    response = await post_form(client, page(world, "calendar"), {
        "time_zone": "Nowhere/Special", "hours_mon": "17:00-09:00",
        "holidays": "Christmas 2026-12-25"})
    assert response.status_code == 422
    assert "Line 1: start with a date like 2026-12-25." in response.text
    response = await post_form(client, page(world, "calendar"), {
        "time_zone": "Nowhere/Special", "hours_mon": "17:00-09:00",
        "hours_tue": "09:00-12:00,10:00-11:00"})
    assert response.status_code == 422
    assert "Unknown time zone &#39;Nowhere/Special&#39;." in response.text
    assert "cannot cross midnight" in response.text
    assert "overlap" in response.text
    assert 'value="Nowhere/Special"' in response.text  # what was typed stays
    assert await BusinessCalendar.filter(project_id=world.project.id).count() == 0


async def test_sla_page_round_trip(client: httpx.AsyncClient, world: World, login: Login
                                   ) -> None:
    await login(world.owner)
    form = await client.get(page(world, "sla"))
    assert form.status_code == 200
    assert 'name="first_enterprise_1" value="60"' in form.text
    assert 'name="name_1" value="Everything is down"' in form.text
    data = {f"name_{n}": f"Level {n}" for n in range(1, 6)}
    data.update({"warning_lead_minutes": "30", "first_enterprise_1": "45",
                 "next_enterprise_1": "", "first_free_5": "9600"})
    saved = await post_form(client, page(world, "sla"), data)
    assert saved.status_code == 303
    policies = {(p.tier, p.priority): p for p in
                await SlaPolicy.filter(project_id=world.project.id)}
    # every cell not posted is blank: no target (different from the defaults, so stored)
    assert policies[(Tier.ENTERPRISE, 1)].first_response_minutes == 45
    assert policies[(Tier.ENTERPRISE, 1)].next_response_minutes is None
    assert policies[(Tier.FREE, 5)].first_response_minutes == 9600
    assert (Tier.FREE, 4) not in policies  # blank = the free default
    settings = await SlaSettings.get(project_id=world.project.id)
    assert settings.warning_lead_minutes == 30
    assert settings.priority_names[0] == "Level 1"


async def test_sla_page_shows_errors(client: httpx.AsyncClient, world: World, login: Login
                                     ) -> None:
    await login(world.owner)
    data = {f"name_{n}": f"Level {n}" for n in range(1, 6)}
    data.update({"name_2": "", "first_enterprise_1": "-5", "next_subscription_3": "soon",
                 "warning_lead_minutes": "30"})
    response = await post_form(client, page(world, "sla"), data)
    assert response.status_code == 422
    assert response.text.count("A whole number of minutes from 1 to") == 2
    assert "A name of 1 to 60 characters." in response.text
    assert 'value="-5"' in response.text
    assert await SlaSettings.filter(project_id=world.project.id).count() == 0


async def test_settings_pages_are_for_owners_and_leads(client: httpx.AsyncClient,
                                                       world: World, login: Login) -> None:
    await login(None)
    anonymous = await client.get(page(world, "sla"))
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    other_owner = await make_user()
    await make_project(owner=other_owner)
    for user in (world.member, world.supporter, world.moderator, other_owner):
        await login(user)
        assert (await client.get(page(world, "sla"))).status_code == 403
        assert (await client.get(page(world, "calendar"))).status_code == 403
    await login(world.owner)
    csrf_page = await client.get(page(world, "sla"))
    assert csrf_page.status_code == 200
    await login(world.member)
    refused = await post_form(client, page(world, "calendar"), {"time_zone": "UTC",
                                                                "hours_mon": "09:00-17:00"},
                              page=f"/p/{world.project.slug}")
    assert refused.status_code == 403
    assert await BusinessCalendar.filter(project_id=world.project.id).count() == 0
