from __future__ import annotations

import httpx
import pytest

from forum import events
from forum.projects.models import Membership, Project, Role, Visibility
from tests.factories import add_member, make_project, make_user
from tests.support import Login, post_form

NEW = {"slug": "acme", "name": "Acme Widgets", "description": "Widgets for everyone",
       "legal_entity": "Acme GmbH", "contact_email": "support@acme.example",
       "time_zone": "Europe/Berlin", "default_visibility": "public"}


async def test_new_project_form_has_the_documented_inputs(
        client: httpx.AsyncClient, login: Login) -> None:
    await login(await make_user("ada"))
    page = await client.get("/projects/new")
    assert page.status_code == 200
    for name in NEW:
        assert f'name="{name}"' in page.text
    assert 'type="submit"' in page.text


async def test_create_project_by_form_makes_creator_owner(
        client: httpx.AsyncClient, login: Login, emitted: list[events.Event]) -> None:
    ada = await make_user("ada")
    await login(ada)
    response = await post_form(client, "/projects/new", NEW)
    assert response.status_code == 303
    assert response.headers["location"] == "/p/acme"
    project = await Project.get(slug="acme")
    assert (project.name, project.legal_entity, project.time_zone) == (
        "Acme Widgets", "Acme GmbH", "Europe/Berlin")
    assert project.contact_email == "support@acme.example"
    membership = await Membership.get(project_id=project.id)
    assert (membership.user_id, membership.role) == (ada.id, Role.OWNER)  # type: ignore[attr-defined]
    assert emitted == [events.ProjectCreated(id=project.id, slug="acme", owner_id=ada.id)]

    page = await client.get("/p/acme")
    assert page.status_code == 200
    assert "Acme Widgets" in page.text and "Widgets for everyone" in page.text
    assert "1 member" in page.text and "Acme GmbH" in page.text
    assert 'href="/p/acme/settings"' in page.text

    home = await client.get("/")
    assert '<a href="/p/acme"><strong>Acme Widgets</strong></a>' in home.text


async def test_anonymous_visitor_is_sent_to_log_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/projects/new")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert not await Project.exists()


@pytest.mark.parametrize(("field", "value", "status"), [
    ("slug", "Acme", 422),
    ("slug", "1acme", 422),
    ("slug", "a", 422),
    ("slug", "admin", 422),
    ("slug", "acme-", 422),
    ("slug", "a" * 41, 422),
    ("name", "", 422),
    ("name", "x" * 81, 422),
    ("time_zone", "Mars/Olympus_Mons", 422),
    ("time_zone", "../../etc/passwd", 422),
    ("contact_email", "not-an-email", 422),
    ("default_visibility", "secret", 422),
])
async def test_bad_project_form_is_refused_and_shown_again(
        client: httpx.AsyncClient, login: Login, field: str, value: str, status: int) -> None:
    await login(await make_user("ada"))
    response = await post_form(client, "/projects/new", {**NEW, field: value})
    assert response.status_code == status
    assert 'class="error"' in response.text and f'name="{field}"' in response.text
    assert not await Project.exists()


async def test_duplicate_slug_is_409(client: httpx.AsyncClient, login: Login) -> None:
    await make_project("acme")
    await login(await make_user("ada"))
    response = await post_form(client, "/projects/new", NEW)
    assert response.status_code == 409
    assert "already taken" in response.text
    assert await Project.all().count() == 1


async def test_home_lists_public_and_own_projects_only(
        client: httpx.AsyncClient, login: Login) -> None:
    ada, bob = await make_user("ada"), await make_user("bob")
    await make_project("open-one", name="Open One")
    await make_project("secret-one", name="Secret One", owner=ada,
                       default_visibility=Visibility.MEMBERS)
    await login(bob)
    home = (await client.get("/")).text
    assert "Open One" in home and "Secret One" not in home
    assert 'href="/projects/new"' in home
    await login(ada)
    home = (await client.get("/")).text
    assert "Open One" in home and "Secret One" in home
    await login(None)
    home = (await client.get("/")).text
    assert "Open One" in home and "Secret One" not in home


async def test_members_only_project_is_404_to_outsiders(
        client: httpx.AsyncClient, login: Login) -> None:
    ada = await make_user("ada")
    await make_project("hidden", name="Cabal Plans", owner=ada,
                       default_visibility=Visibility.MEMBERS)
    for viewer in (None, await make_user("bob")):
        await login(viewer)
        for path in ("/p/hidden", "/p/hidden/settings"):
            response = await client.get(path, headers={"accept": "text/html"})
            if viewer is None and path.endswith("settings"):
                assert response.status_code == 303  # log in first
            else:
                assert response.status_code == 404, path
                assert "Cabal Plans" not in response.text
                unknown = await client.get(path.replace("hidden", "nothing-here"),
                                           headers={"accept": "text/html"})
                assert unknown.status_code == 404
                assert "No such project." in response.text and "No such project." in unknown.text
    await login(ada)
    assert (await client.get("/p/hidden")).status_code == 200
    await login(await make_user("root", admin=True))
    assert (await client.get("/p/hidden")).status_code == 200


async def test_unknown_slug_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/p/no-such-project", headers={"accept": "text/html"})
    assert response.status_code == 404


async def test_project_page_sets_the_switcher_to_the_current_project(
        client: httpx.AsyncClient, login: Login) -> None:
    ada = await make_user("ada")
    await make_project("acme", name="Acme Widgets", owner=ada)
    await make_project("other", name="Other Thing", owner=ada)
    await login(ada)
    page = (await client.get("/p/acme")).text
    assert "<summary>Acme Widgets</summary>" in page


async def test_member_may_leave_but_last_owner_may_not(
        client: httpx.AsyncClient, login: Login) -> None:
    ada, bob = await make_user("ada"), await make_user("bob")
    project = await make_project("acme", owner=ada)
    await add_member(project, bob)
    await login(bob)
    response = await post_form(client, "/p/acme/leave", {}, page="/p/acme")
    assert response.status_code == 303
    assert not await Membership.exists(project_id=project.id, user_id=bob.id)
    await login(ada)
    response = await post_form(client, "/p/acme/leave", {}, page="/")
    assert response.status_code == 422
    assert "last owner" in response.text
    assert await Membership.exists(project_id=project.id, user_id=ada.id)


async def test_form_without_csrf_token_changes_nothing(
        client: httpx.AsyncClient, login: Login) -> None:
    await login(await make_user("ada"))
    response = await client.post("/projects/new", data=NEW)
    assert response.status_code == 403
    assert not await Project.exists()

