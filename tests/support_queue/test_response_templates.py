"""Response templates: variables checked on save and filled safely, personal and project-wide
templates, the pages, the API, the composer's picker, and every permission boundary."""

from __future__ import annotations

import httpx
import pytest

from forum.platform import Platform
from forum.projects.permissions import access_project
from forum.support_queue import templates_service as service
from forum.support_queue.team_models import ResponseTemplate
from forum.topics.models import Topic
from forum.web.errors import Forbidden, Invalid, NotFound
from tests.support import Login, post_form
from tests.support_queue.conftest import World, make_world, open_ticket

BODY = ("Hello {requester_name}, thanks for {reference} in {project_name}. "
        "We expect to answer {expected_response}: {ticket_link}")


def facts() -> service.TicketFacts:
    return service.TicketFacts("Ada", "http://x/p/demo/t/1-a", "Demo", "as soon as we can",
                               "DEMO-1")


def test_every_variable_is_filled() -> None:
    assert service.render_body(BODY, facts()) == (
        "Hello Ada, thanks for DEMO-1 in Demo. We expect to answer as soon as we can: "
        "http://x/p/demo/t/1-a")


def test_doubled_braces_stay_literal() -> None:
    assert service.render_body("Use {{strict: true}} for {reference}", facts()) == (
        "Use {strict: true} for DEMO-1")


@pytest.mark.parametrize("body", [
    "Hi {name}",  # unknown
    "Hi {requester_name.__class__}",  # attribute access
    "Hi {requester_name[0]}",  # indexing
    "Hi {requester_name!r}",  # conversion
    "Hi {requester_name:>99999999}",  # a format spec (a memory bomb)
    "Hi {requester_name",  # not closed
    "A lone } brace",
    "Hi {}",  # positional
])
def test_unsafe_or_unknown_variables_are_refused_on_save(body: str) -> None:
    assert service.body_problem(body) is not None
    with pytest.raises(Invalid) as caught:
        service.check_fields("Greeting", body)
    assert "body" in caught.value.fields


def test_a_stored_body_that_no_longer_parses_is_shown_as_written() -> None:
    assert service.render_body("Hi {nobody}", facts()) == "Hi {nobody}"


async def test_values_are_inserted_verbatim_never_reinterpreted(platform: Platform,
                                                                world: World) -> None:
    await world.member.__class__.filter(id=world.member.id).update(
        display_name="{project_name} <b>x</b>")
    ticket = await open_ticket(platform, world)
    found = await service.ticket_facts(platform.settings, ticket)
    text = service.render_body("Dear {requester_name} of {project_name}", found)
    assert text == f"Dear {{project_name}} <b>x</b> of {world.project.name}"


async def test_ticket_facts(platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    found = await service.ticket_facts(platform.settings, ticket)
    assert found.reference == f"{world.project.slug.upper()}-{ticket.number}"
    assert found.ticket_link == (f"http://testserver/p/{world.project.slug}/t/"
                                 f"{topic.id}-{topic.slug}")
    assert found.requester_name == world.member.username
    assert found.project_name == world.project.name
    assert found.expected_response.startswith("within ")  # the queue's estimate


async def test_personal_and_project_wide_visibility(world: World) -> None:
    owner_access = await access_project(world.owner, world.project.slug)
    supporter_access = await access_project(world.supporter, world.project.slug)
    maintainer_access = await access_project(world.maintainer, world.project.slug)
    shared = await service.check_create(owner_access, world.owner, "Shared", "Hi", True)
    mine = await service.check_create(supporter_access, world.supporter, "Mine", "Yo", False)
    assert [t.id for t in await service.templates_for(supporter_access, world.supporter)] == [
        shared.id, mine.id]
    # Someone else's personal template is not even found.
    assert [t.id for t in await service.templates_for(maintainer_access, world.maintainer)
            ] == [shared.id]
    with pytest.raises(NotFound):
        await service.access_template(maintainer_access, world.maintainer, mine.id)
    # A supporter may use but not change the project-wide one.
    with pytest.raises(Forbidden):
        await service.check_update(supporter_access, world.supporter, shared.id, "X", None)
    with pytest.raises(Forbidden):
        await service.check_delete(supporter_access, world.supporter, shared.id)
    with pytest.raises(Forbidden):
        await service.check_create(supporter_access, world.supporter, "S", "x", True)
    updated = await service.check_update(supporter_access, world.supporter, mine.id, None,
                                         "Hello {reference}")
    assert (updated.name, updated.body) == ("Mine", "Hello {reference}")


async def test_members_and_other_projects_teams_are_refused(world: World) -> None:
    other = await make_world()
    owner_access = await access_project(world.owner, world.project.slug)
    shared = await service.check_create(owner_access, world.owner, "Shared", "Hi", True)
    member_access = await access_project(world.member, world.project.slug)
    with pytest.raises(Forbidden):
        await service.templates_for(member_access, world.member)
    # The other project's owner is a plain visitor here.
    foreign = await access_project(other.owner, world.project.slug)
    with pytest.raises(Forbidden):
        await service.access_template(foreign, other.owner, shared.id)
    # And in their own project, this project's template does not exist.
    own = await access_project(other.owner, other.project.slug)
    with pytest.raises(NotFound):
        await service.access_template(own, other.owner, shared.id)


# API


async def test_api_crud(client: httpx.AsyncClient, login: Login, world: World) -> None:
    await login(world.owner)
    base = f"/api/v1/projects/{world.project.slug}/response-templates"
    created = await client.post(base, json={"name": "Thanks", "body": BODY,
                                             "project_wide": True})
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    assert created.json()["project_wide"] is True and created.json()["editable"] is True
    listed = (await client.get(base)).json()
    assert [t["name"] for t in listed["templates"]] == ["Thanks"]
    assert set(listed["variables"]) == set(service.VARIABLES)
    patched = await client.patch(f"{base}/{tid}", json={"name": "Thank you"})
    assert patched.status_code == 200 and patched.json()["name"] == "Thank you"
    assert patched.json()["body"] == BODY
    bad = await client.patch(f"{base}/{tid}", json={"body": "Hi {secret}"})
    assert bad.status_code == 422 and "body" in bad.json()["error"]["fields"]
    assert (await ResponseTemplate.get(id=tid)).body == BODY
    deleted = await client.delete(f"{base}/{tid}", headers={"content-type": "application/json"})
    assert deleted.status_code == 204
    assert (await client.get(f"{base}/{tid}")).status_code == 404


async def test_api_refusals(client: httpx.AsyncClient, login: Login, world: World) -> None:
    base = f"/api/v1/projects/{world.project.slug}/response-templates"
    assert (await client.get(base)).status_code == 401
    await login(world.member)
    assert (await client.get(base)).status_code == 403
    assert (await client.post(base, json={"name": "x", "body": "y"})).status_code == 403
    await login(world.supporter)
    refused = await client.post(base, json={"name": "x", "body": "y", "project_wide": True})
    assert refused.status_code == 403
    malformed = await client.post(base, json={"name": "", "body": "y", "extra": 1})
    assert malformed.status_code == 422
    assert await ResponseTemplate.all().count() == 0


async def test_api_render_for_a_ticket(client: httpx.AsyncClient, login: Login,
                                       platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    template = await ResponseTemplate.create(project=world.project, owner=None, name="Hi",
                                             body="Hi {requester_name}, re {reference}.")
    url = f"/api/v1/tickets/{ticket.id}/response-templates/{template.id}/render"
    await login(world.supporter)
    response = await client.get(url)
    assert response.status_code == 200
    assert response.json()["text"] == (
        f"Hi {world.member.username}, re {world.project.slug.upper()}-{ticket.number}.")
    # The requester, a non-member and another project's team: no such ticket.
    other = await make_world()
    for user in (world.member, world.outsider, other.owner):
        await login(user)
        assert (await client.get(url)).status_code == 404
    # Another project's template cannot be rendered into this ticket.
    foreign = await ResponseTemplate.create(project=other.project, owner=None, name="F",
                                            body="F")
    await login(world.supporter)
    response = await client.get(
        f"/api/v1/tickets/{ticket.id}/response-templates/{foreign.id}/render")
    assert response.status_code == 404


# Pages


async def test_templates_page_create_edit_delete(client: httpx.AsyncClient, login: Login,
                                                 world: World) -> None:
    await login(world.supporter)
    page = f"/p/{world.project.slug}/templates"
    response = await client.get(page)
    assert response.status_code == 200 and "No templates yet" in response.text
    assert 'name="project_wide"' not in response.text  # supporters keep personal ones
    refused = await post_form(client, page, {"name": "Bad", "body": "Hi {oops}"})
    assert refused.status_code == 422 and "Unknown variable" in refused.text
    saved = await post_form(client, page, {"name": "Mine", "body": "Hi {requester_name}"})
    assert saved.status_code == 303
    template = await ResponseTemplate.get(name="Mine")
    assert template.owner_id == world.supporter.id  # type: ignore[attr-defined]
    edit = f"{page}/{template.id}"
    changed = await post_form(client, edit, {"name": "Mine 2", "body": "Yo"})
    assert changed.status_code == 303
    assert (await ResponseTemplate.get(id=template.id)).name == "Mine 2"
    deleted = await post_form(client, edit, {"delete": "1"})
    assert deleted.status_code == 303
    assert not await ResponseTemplate.exists(id=template.id)


async def test_a_lead_saves_project_wide_from_the_page(client: httpx.AsyncClient,
                                                       login: Login, world: World) -> None:
    await login(world.owner)
    page = f"/p/{world.project.slug}/templates"
    assert 'name="project_wide"' in (await client.get(page)).text
    await post_form(client, page, {"name": "Shared", "body": "Hi", "project_wide": "1"})
    assert (await ResponseTemplate.get(name="Shared")).owner_id is None  # type: ignore[attr-defined]


async def test_templates_pages_refuse_outsiders(client: httpx.AsyncClient, login: Login,
                                                world: World) -> None:
    shared = await ResponseTemplate.create(project=world.project, owner=None, name="S",
                                           body="x")
    page = f"/p/{world.project.slug}/templates"
    assert (await client.get(page)).status_code == 303  # to the log-in page
    for user in (world.member, world.outsider):
        await login(user)
        assert (await client.get(page)).status_code == 403
        assert (await client.get(f"{page}/{shared.id}")).status_code == 403
    await login(world.supporter)
    assert (await client.get(f"{page}/{shared.id}")).status_code == 403  # not a lead
    other = await make_world()
    await login(other.owner)
    assert (await client.get(page)).status_code == 403


async def test_picker_and_insert(client: httpx.AsyncClient, login: Login,
                                 platform: Platform, world: World) -> None:
    ticket = await open_ticket(platform, world)
    topic_id = ticket.topic_id  # type: ignore[attr-defined]
    template = await ResponseTemplate.create(project=world.project, owner=None, name="Greet",
                                             body="Hello {requester_name} <script>")
    await login(world.supporter)
    picker = await client.get(f"/p/{world.project.slug}/t/{topic_id}/template-picker")
    assert picker.status_code == 200
    assert f'<option value="{template.id}">Greet</option>' in picker.text
    assert 'hx-target="#composer textarea[name=source]"' in picker.text
    assert 'hx-post="' in picker.text
    posted = await post_form(client, f"/p/{world.project.slug}/t/{topic_id}/template-insert",
                             {"template_id": str(template.id), "source": "x" * 20_000},
                             page=f"/p/{world.project.slug}/templates")
    assert posted.status_code == 200 and posted.text.count("x") >= 20_000
    inserted = await client.get(f"/p/{world.project.slug}/t/{topic_id}/template-insert",
                                params={"template_id": template.id, "source": "Draft"})
    assert inserted.status_code == 200
    assert inserted.text.startswith('<textarea name="source"')
    assert f"Draft\n\nHello {world.member.username} &lt;script&gt;</textarea>" in inserted.text
    await login(world.member)
    for path in ("template-picker", "template-insert"):
        response = await client.get(f"/p/{world.project.slug}/t/{topic_id}/{path}")
        assert response.status_code == 403
