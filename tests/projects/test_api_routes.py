from __future__ import annotations

import httpx
import pytest

from forum import events
from forum.accounts.middleware import hash_api_key
from forum.accounts.models import ApiKey
from forum.projects.models import Membership, Project, Role, Visibility
from tests.factories import add_member, make_project, make_user
from tests.support import Login

BODY = {"slug": "acme", "name": "Acme Widgets", "description": "Widgets",
        "legal_entity": "Acme GmbH", "contact_email": "help@acme.example",
        "time_zone": "Europe/Berlin", "default_visibility": "members"}


async def test_create_project_returns_201_and_makes_owner(
        client: httpx.AsyncClient, login: Login, emitted: list[events.Event]) -> None:
    ada = await make_user("ada")
    await login(ada)
    response = await client.post("/api/v1/projects", json=BODY)
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in BODY} == BODY
    assert body["members_count"] == 1 and body["your_role"] == "owner"
    project = await Project.get(slug="acme")
    assert (await Membership.get(project_id=project.id)).role == Role.OWNER
    assert emitted == [events.ProjectCreated(id=project.id, slug="acme", owner_id=ada.id)]


async def test_create_with_an_api_key(client: httpx.AsyncClient) -> None:
    ada = await make_user("ada")
    await ApiKey.create(user=ada, name="ci", prefix="fk_test", key_hash=hash_api_key("fk_test"))
    response = await client.post("/api/v1/projects", json={"slug": "keyed", "name": "Keyed"},
                                 headers={"authorization": "Bearer fk_test"})
    assert response.status_code == 201
    assert response.json()["time_zone"] == "UTC"
    assert response.json()["default_visibility"] == "public"


async def test_create_needs_a_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/projects", json=BODY)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert not await Project.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"slug": "Bad Slug"}, "slug"),
    ({"slug": "api"}, "slug"),
    ({"slug": "-x"}, "slug"),
    ({"name": ""}, "name"),
    ({"time_zone": "Europe/Atlantis"}, "time_zone"),
    ({"contact_email": "nobody"}, "contact_email"),
    ({"default_visibility": "everyone"}, "default_visibility"),
    ({"unexpected": 1}, "unexpected"),
])
async def test_create_rejects_bad_fields_with_422(
        client: httpx.AsyncClient, login: Login, change: dict[str, object], field: str) -> None:
    await login(await make_user("ada"))
    response = await client.post("/api/v1/projects", json={**BODY, **change})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert not await Project.exists()


async def test_create_duplicate_slug_409_and_malformed_json_400(
        client: httpx.AsyncClient, login: Login) -> None:
    await make_project("acme")
    await login(await make_user("ada"))
    response = await client.post("/api/v1/projects", json=BODY)
    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {"slug": "is already taken"}
    response = await client.post("/api/v1/projects", content=b"{nope",
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert await Project.all().count() == 1


async def test_get_and_list_respect_visibility(client: httpx.AsyncClient, login: Login) -> None:
    ada, bob = await make_user("ada"), await make_user("bob")
    await make_project("open", name="Open", owner=ada)
    await make_project("closed", name="Closed", owner=ada,
                       default_visibility=Visibility.MEMBERS)
    for viewer in (None, bob):
        await login(viewer)
        assert (await client.get("/api/v1/projects/open")).status_code == 200
        for slug in ("closed", "nothing"):
            response = await client.get(f"/api/v1/projects/{slug}")
            assert response.status_code == 404
            assert response.json()["error"]["message"] == "No such project."
        listed = (await client.get("/api/v1/projects")).json()["projects"]
        assert [p["slug"] for p in listed] == ["open"]
        assert listed[0]["your_role"] is None
    await login(ada)
    listed = (await client.get("/api/v1/projects")).json()["projects"]
    assert [(p["slug"], p["your_role"]) for p in listed] == [("closed", "owner"),
                                                            ("open", "owner")]
    assert (await client.get("/api/v1/projects/closed")).json()["name"] == "Closed"


async def test_members_list_is_for_members(client: httpx.AsyncClient, login: Login) -> None:
    ada, bob, eve = await make_user("ada"), await make_user("bob"), await make_user("eve")
    project = await make_project("open", owner=ada)
    await add_member(project, bob, Role.SUPPORTER)
    await login(bob)
    response = await client.get("/api/v1/projects/open/members")
    assert response.status_code == 200
    assert [(m["username"], m["role"]) for m in response.json()["members"]] == [
        ("ada", "owner"), ("bob", "supporter")]
    await login(eve)
    assert (await client.get("/api/v1/projects/open/members")).status_code == 403
    await login(None)
    assert (await client.get("/api/v1/projects/open/members")).status_code == 401
    await login(await make_user("root", admin=True))
    assert (await client.get("/api/v1/projects/open/members")).status_code == 200


async def test_patch_needs_lead_or_owner(client: httpx.AsyncClient, login: Login) -> None:
    ada, bob, lead = await make_user("ada"), await make_user("bob"), await make_user("lead")
    project = await make_project("open", name="Open", owner=ada)
    await add_member(project, bob, Role.MAINTAINER)
    await add_member(project, lead, Role.LEAD)
    await login(bob)
    response = await client.patch("/api/v1/projects/open", json={"name": "Mine"})
    assert response.status_code == 403
    await login(lead)
    response = await client.patch("/api/v1/projects/open",
                                  json={"name": "Renamed", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["time_zone"]) == ("Renamed", "Asia/Tokyo")
    assert response.json()["description"] == ""
    response = await client.patch("/api/v1/projects/open", json={"time_zone": "Tokyo"})
    assert response.status_code == 422
    response = await client.patch("/api/v1/projects/nothing", json={"name": "x"})
    assert response.status_code == 404
    await project.refresh_from_db()
    assert (project.name, project.time_zone) == ("Renamed", "Asia/Tokyo")


async def test_openapi_documents_the_project_endpoints(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/api/v1/openapi.json")).json()
    assert set(doc["paths"]["/api/v1/projects"]) == {"get", "post"}
    assert set(doc["paths"]["/api/v1/projects/{slug}"]) == {"get", "patch"}
    assert "get" in doc["paths"]["/api/v1/projects/{slug}/members"]
    assert "slug" in doc["components"]["schemas"]["ProjectIn"]["properties"]
    assert "409" in doc["paths"]["/api/v1/projects"]["post"]["responses"]
