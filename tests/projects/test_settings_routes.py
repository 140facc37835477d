from __future__ import annotations

import httpx
import pytest

from forum import events
from forum.platform import Platform
from forum.projects.models import Invitation, Membership, Project, ProjectPlugin, Role
from tests.factories import add_member, make_project, make_user
from tests.plugins.sample.models import SampleRecord
from tests.support import Login, post_form

GENERAL = {"name": "Acme Widgets", "description": "New words", "legal_entity": "Acme Ltd",
           "contact_email": "help@acme.example", "time_zone": "America/New_York",
           "default_visibility": "members"}


@pytest.fixture
async def acme(client: httpx.AsyncClient) -> Project:
    """A project owned by ada (the client's app has the database open)."""
    ada = await make_user("ada")
    return await make_project("acme", name="Acme", owner=ada)


async def test_owner_sees_and_saves_settings(client: httpx.AsyncClient, login: Login,
                                             acme: Project) -> None:
    ada = await make_user("ada2")
    await add_member(acme, ada, Role.LEAD)
    await login(ada)
    page = await client.get("/p/acme/settings")
    assert page.status_code == 200
    for section in ('id="general"', 'id="members"', 'id="invitations"', 'id="plugins"'):
        assert section in page.text
    response = await post_form(client, "/p/acme/settings", GENERAL)
    assert response.status_code == 303
    await acme.refresh_from_db()
    assert (acme.name, acme.description, acme.legal_entity, acme.contact_email,
            acme.time_zone, acme.default_visibility) == tuple(GENERAL.values())
    assert acme.slug == "acme"


@pytest.mark.parametrize(("field", "value"), [("time_zone", "Nowhere/Land"),
                                              ("contact_email", "x@"), ("name", " ")])
async def test_bad_settings_are_refused(client: httpx.AsyncClient, login: Login,
                                        acme: Project, field: str, value: str) -> None:
    owner = await make_user("owner2")
    await add_member(acme, owner, Role.OWNER)
    await login(owner)
    response = await post_form(client, "/p/acme/settings", {**GENERAL, field: value})
    assert response.status_code == 422
    assert 'class="error"' in response.text
    await acme.refresh_from_db()
    assert acme.name == "Acme" and acme.time_zone == "UTC"


@pytest.mark.parametrize("role", [Role.MAINTAINER, Role.SUPPORTER, Role.MODERATOR, Role.MEMBER])
async def test_settings_need_owner_or_lead(client: httpx.AsyncClient, login: Login,
                                           acme: Project, role: Role) -> None:
    user = await make_user(f"is-{role}")
    await add_member(acme, user, role)
    await login(user)
    html = {"accept": "text/html"}
    assert (await client.get("/p/acme/settings", headers=html)).status_code == 403
    token_page = "/p/acme"
    for path, data in [
        ("/p/acme/settings", GENERAL),
        ("/p/acme/settings/invitations", {"email": "new@example.org", "role": "member"}),
        (f"/p/acme/settings/members/{user.id}/role", {"role": "lead"}),
        ("/p/acme/settings/plugins/sample/toggle", {"enabled": "on"}),
        ("/p/acme/settings/plugins/sample", {"greeting": "yo", "max_items": "5"}),
    ]:
        response = await post_form(client, path, data, page=token_page)
        assert response.status_code == 403, path
    await acme.refresh_from_db()
    assert acme.name == "Acme"
    assert not await Invitation.exists()
    assert not await ProjectPlugin.exists()
    assert (await Membership.get(project_id=acme.id, user_id=user.id)).role == role


async def test_owner_changes_roles_and_event_follows(
        client: httpx.AsyncClient, login: Login, acme: Project,
        emitted: list[events.Event]) -> None:
    owner = await Membership.get(project_id=acme.id).prefetch_related("user")
    bob = await make_user("bob")
    await add_member(acme, bob)
    await login(owner.user)
    response = await post_form(client, f"/p/acme/settings/members/{bob.id}/role",
                               {"role": "supporter"}, page="/p/acme/settings")
    assert response.status_code == 303
    assert (await Membership.get(project_id=acme.id, user_id=bob.id)).role == Role.SUPPORTER
    assert emitted == [events.MemberRoleChanged(project=acme.id, user_id=bob.id,
                                                role="supporter")]
    response = await post_form(client, f"/p/acme/settings/members/{bob.id}/role",
                               {"role": "boss"}, page="/p/acme/settings")
    assert response.status_code == 422


async def test_lead_cannot_touch_owners_or_make_owners(
        client: httpx.AsyncClient, login: Login, acme: Project) -> None:
    owner = await Membership.get(project_id=acme.id)
    lead, bob = await make_user("lead"), await make_user("bob")
    await add_member(acme, lead, Role.LEAD)
    await add_member(acme, bob)
    await login(lead)
    for path, data in [
        (f"/p/acme/settings/members/{bob.id}/role", {"role": "owner"}),
        (f"/p/acme/settings/members/{owner.user_id}/role", {"role": "member"}),  # type: ignore[attr-defined]
        (f"/p/acme/settings/members/{owner.user_id}/remove", {}),  # type: ignore[attr-defined]
        ("/p/acme/settings/invitations", {"email": "x@example.org", "role": "owner"}),
    ]:
        response = await post_form(client, path, data, page="/p/acme/settings")
        assert response.status_code == 403, path
    assert (await Membership.get(project_id=acme.id, user_id=bob.id)).role == Role.MEMBER
    assert (await Membership.get(id=owner.id)).role == Role.OWNER
    response = await post_form(client, f"/p/acme/settings/members/{bob.id}/role",
                               {"role": "lead"}, page="/p/acme/settings")
    assert response.status_code == 303
    assert (await Membership.get(project_id=acme.id, user_id=bob.id)).role == Role.LEAD


async def test_last_owner_cannot_be_demoted_or_removed(
        client: httpx.AsyncClient, login: Login, acme: Project) -> None:
    owner = await Membership.get(project_id=acme.id).prefetch_related("user")
    await login(owner.user)
    for path, data in [(f"/p/acme/settings/members/{owner.user.id}/role", {"role": "lead"}),
                       (f"/p/acme/settings/members/{owner.user.id}/remove", {})]:
        response = await post_form(client, path, data, page="/p/acme/settings")
        assert response.status_code == 422
        assert "last owner" in response.text
    assert (await Membership.get(id=owner.id)).role == Role.OWNER

    # With a second owner, the first may step down.
    second = await make_user("second")
    await add_member(acme, second, Role.OWNER)
    response = await post_form(client, f"/p/acme/settings/members/{owner.user.id}/role",
                               {"role": "lead"}, page="/p/acme/settings")
    assert response.status_code == 303
    assert (await Membership.get(id=owner.id)).role == Role.LEAD


async def test_owner_removes_a_member(client: httpx.AsyncClient, login: Login, acme: Project,
                                      emitted: list[events.Event]) -> None:
    owner = await Membership.get(project_id=acme.id).prefetch_related("user")
    bob = await make_user("bob")
    await add_member(acme, bob)
    await login(owner.user)
    response = await post_form(client, f"/p/acme/settings/members/{bob.id}/remove", {},
                               page="/p/acme/settings")
    assert response.status_code == 303
    assert not await Membership.exists(project_id=acme.id, user_id=bob.id)
    assert emitted == [events.MemberRoleChanged(project=acme.id, user_id=bob.id, role=None)]
    response = await post_form(client, f"/p/acme/settings/members/{bob.id}/remove", {},
                               page="/p/acme/settings")
    assert response.status_code == 404


async def test_plugin_switch_and_settings(client: httpx.AsyncClient, login: Login,
                                          acme: Project, emitted: list[events.Event]) -> None:
    owner = await Membership.get(project_id=acme.id).prefetch_related("user")
    await login(owner.user)
    page = (await client.get("/p/acme/settings")).text
    assert 'id="plugin-sample"' in page and 'name="greeting" value="hi"' in page
    assert 'name="max_items" value="3"' in page

    response = await post_form(client, "/p/acme/settings/plugins/sample/toggle",
                               {"enabled": "on"}, page="/p/acme/settings")
    assert response.status_code == 303
    assert (await ProjectPlugin.get(project_id=acme.id, name="sample")).enabled
    assert emitted == [events.PluginToggled(project=acme.id, plugin="sample", enabled=True)]

    response = await post_form(client, "/p/acme/settings/plugins/sample",
                               {"greeting": "hello", "max_items": "7"},
                               page="/p/acme/settings")
    assert response.status_code == 303
    row = await ProjectPlugin.get(project_id=acme.id, name="sample")
    assert row.settings == {"greeting": "hello", "max_items": 7}
    assert 'name="max_items" value="7"' in (await client.get("/p/acme/settings")).text

    for bad in ("many", "", "1.5"):
        response = await post_form(client, "/p/acme/settings/plugins/sample",
                                   {"greeting": "x", "max_items": bad},
                                   page="/p/acme/settings")
        assert response.status_code == 422
        assert "max_items" in response.text
    assert (await ProjectPlugin.get(id=row.id)).settings == {"greeting": "hello",
                                                              "max_items": 7}

    response = await post_form(client, "/p/acme/settings/plugins/sample/toggle",
                               {"enabled": "off"}, page="/p/acme/settings")
    assert response.status_code == 303
    assert not (await ProjectPlugin.get(id=row.id)).enabled
    assert emitted[-1] == events.PluginToggled(project=acme.id, plugin="sample", enabled=False)

    response = await post_form(client, "/p/acme/settings/plugins/nope/toggle",
                               {"enabled": "on"}, page="/p/acme/settings")
    assert response.status_code == 404


async def test_project_events_reach_a_plugin_only_where_it_is_enabled(
        client: httpx.AsyncClient, login: Login, platform: Platform) -> None:
    """A new project has every optional plugin off, so its own ``ProjectCreated`` reaches
    no optional plugin; once switched on in a project, the plugin hears that project's
    events and still none of other projects."""
    ada = await make_user("ada")
    await login(ada)
    for slug in ("first", "second"):
        response = await post_form(client, "/projects/new",
                                   {"slug": slug, "name": slug.title(), "time_zone": "UTC",
                                    "default_visibility": "public"})
        assert response.status_code == 303
    assert not await SampleRecord.exists()

    response = await post_form(client, "/p/first/settings/plugins/sample/toggle",
                               {"enabled": "on"}, page="/p/first/settings")
    assert response.status_code == 303
    first, second = await Project.get(slug="first"), await Project.get(slug="second")
    for project in (first, second):
        await platform.emit(events.ProjectCreated(id=project.id, slug=project.slug,
                                                  owner_id=ada.id))
    labels = await SampleRecord.filter(kind="event").values_list("label", flat=True)
    assert list(map(str, labels)) == ["project:first"]
