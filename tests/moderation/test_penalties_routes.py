"""Penalty forms and API: moderators inside their project, admins on the platform, and what
the penalised user meets (refused posts, refused log-ins, dead API keys, the penalties page)."""

from __future__ import annotations

from typing import Any

import httpx

from forum.accounts.service import do_create_api_key
from forum.moderation.audit import AuditEntry
from forum.moderation.penalty_models import Penalty
from forum.platform import Platform
from forum.projects.models import Project, Role
from forum.topics.categories import ensure_default_categories
from tests.factories import PASSWORD, add_member, make_project, make_user
from tests.support import Login, post_form

SILENCE = {"kind": "silence", "reason": "Off-topic rants", "days": 2}


async def topic_body(project: Project) -> dict[str, Any]:
    categories = {c.slug: c for c in await ensure_default_categories(project)}
    return {"title": "How do I calibrate the flux capacitor?", "source": "It drifts.",
            "category_id": categories["questions"].id}


async def test_moderator_silences_through_the_form_and_the_user_cannot_post(
        client: httpx.AsyncClient, login: Login, db: None) -> None:
    moderator, member = await make_user(), await make_user("rowdy")
    project = await make_project("calib")
    await add_member(project, moderator, Role.MODERATOR)
    await add_member(project, member)

    await login(moderator)
    page = await client.get("/p/calib/u/rowdy/penalties")
    assert page.status_code == 200 and "Penalties of rowdy" in page.text
    response = await post_form(client, "/p/calib/u/rowdy/penalties",
                               {"kind": "silence", "days": "3", "reason": "Off-topic rants"})
    assert response.status_code == 303
    penalty = await Penalty.get(user_id=member.id)
    assert (penalty.kind, penalty.project_id, penalty.reason) == (
        "silence", project.id, "Off-topic rants")
    assert penalty.ends_at is not None

    await login(member)
    refused = await client.post("/api/v1/projects/calib/topics", json=await topic_body(project))
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert "You are silenced in this project until" in message and "Off-topic rants" in message

    mine = await client.get("/p/calib/my-penalties")
    assert mine.status_code == 200
    assert "You are silenced in this project until" in mine.text and "Off-topic rants" in mine.text
    api_mine = await client.get("/api/v1/projects/calib/my-penalties")
    [entry] = api_mine.json()["penalties"]
    assert entry["active"] is True and entry["kind"] == "silence"

    await login(moderator)
    lifted = await post_form(client, f"/p/calib/u/rowdy/penalties/{penalty.id}/lift",
                             {"note": "Talked it over"}, page="/p/calib/u/rowdy/penalties")
    assert lifted.status_code == 303
    await login(member)
    allowed = await client.post("/api/v1/projects/calib/topics", json=await topic_body(project))
    assert allowed.status_code == 201
    actions = [e.action for e in await AuditEntry.filter(project_id=project.id).order_by("id")]
    assert actions == ["penalty.silence", "penalty.lifted"]


async def test_form_rejects_bad_input_with_422(client: httpx.AsyncClient, login: Login,
                                               db: None) -> None:
    moderator, member = await make_user(), await make_user("target")
    project = await make_project("forms")
    await add_member(project, moderator, Role.MODERATOR)
    await login(moderator)
    for data in ({"kind": "exile", "reason": "x", "days": "1"},
                 {"kind": "ban", "reason": "", "days": "1"},
                 {"kind": "ban", "reason": "x", "days": "0"},
                 {"kind": "ban", "reason": "x", "days": "many"}):
        response = await post_form(client, "/p/forms/u/target/penalties", data)
        assert response.status_code == 422, data
    api = await client.post("/api/v1/projects/forms/users/target/penalties",
                            json={"kind": "ban", "reason": "x", "days": 99999})
    assert api.status_code == 422 and "days" in api.json()["error"]["fields"]
    assert await Penalty.filter(user_id=member.id).count() == 0


async def test_moderator_of_one_project_cannot_penalise_in_another(
        client: httpx.AsyncClient, login: Login, db: None) -> None:
    moderator, member = await make_user(), await make_user("victim")
    mine, theirs = await make_project("mine"), await make_project("theirs")
    await add_member(mine, moderator, Role.MODERATOR)
    await add_member(theirs, member)
    await login(moderator)
    api = await client.post("/api/v1/projects/theirs/users/victim/penalties", json=SILENCE)
    assert api.status_code == 403
    page = await client.get("/p/theirs/u/victim/penalties")
    assert page.status_code == 403
    listing = await client.get("/api/v1/projects/theirs/users/victim/penalties")
    assert listing.status_code == 403
    # Through their own project's URL they may (the penalty applies in their project).
    ok = await client.post("/api/v1/projects/mine/users/victim/penalties", json=SILENCE)
    assert ok.status_code == 201 and ok.json()["project"] == "mine"
    assert await Penalty.filter(project_id=theirs.id).count() == 0


async def test_a_member_cannot_penalise_or_lift(client: httpx.AsyncClient, login: Login,
                                                db: None) -> None:
    admin, member, other = await make_user(admin=True), await make_user(), await make_user("o")
    project = await make_project("plain")
    await add_member(project, member)
    await login(admin)
    created = await client.post("/api/v1/projects/plain/users/o/penalties", json=SILENCE)
    assert created.status_code == 201
    await login(member)
    assert (await client.post("/api/v1/projects/plain/users/o/penalties",
                              json=SILENCE)).status_code == 403
    lift = await client.post(f"/api/v1/projects/plain/users/o/penalties/"
                             f"{created.json()['id']}/lift", json={})
    assert lift.status_code == 403
    assert await Penalty.filter(user_id=other.id, lifted_at=None).count() == 1


async def test_platform_penalties_need_a_platform_admin(client: httpx.AsyncClient,
                                                        login: Login, db: None) -> None:
    owner, member = await make_user(), await make_user("someone")
    project = await make_project("owned", owner=owner)
    await add_member(project, member)
    await login(owner)  # a project owner is not a platform admin
    body = {"username": "someone", "kind": "ban", "reason": "Spam"}
    assert (await client.post("/api/v1/admin/penalties", json=body)).status_code == 403
    assert (await client.get("/api/v1/admin/penalties")).status_code == 403
    assert (await client.get("/admin/penalties")).status_code == 403
    assert await Penalty.all().count() == 0

    admin = await make_user(admin=True)
    await login(admin)
    page = await client.get("/admin/penalties")
    assert page.status_code == 200
    response = await post_form(client, "/admin/penalties",
                               {"username": "someone", "kind": "ban", "reason": "Spam",
                                "days": ""})
    assert response.status_code == 303
    penalty = await Penalty.get(user_id=member.id)
    assert penalty.project_id is None and penalty.ends_at is None
    unknown = await post_form(client, "/admin/penalties",
                              {"username": "nobody-here", "kind": "ban", "reason": "x"})
    assert unknown.status_code == 404 and "No such user" in unknown.text
    listed = await client.get("/api/v1/admin/penalties")
    assert [p["username"] for p in listed.json()["penalties"]] == ["someone"]


async def test_suspended_user_cannot_log_in_by_form_api_or_key(
        client: httpx.AsyncClient, login: Login, db: None, platform: Platform,
        ) -> None:
    admin, member = await make_user(admin=True), await make_user("sus")
    _, key = await do_create_api_key(platform, member, "laptop")
    bearer = {"authorization": f"Bearer {key}"}
    assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 200
    await login(member)
    assert (await client.get("/api/v1/users/me")).status_code == 200
    member_cookies = dict(client.cookies)

    await login(admin)
    created = await client.post("/api/v1/admin/penalties", json={
        "username": "sus", "kind": "suspend", "reason": "Abusive messages", "days": 7})
    assert created.status_code == 201
    penalty_id = created.json()["id"]

    # The live session ended (session_version bumped), the key stops working.
    client.cookies.clear()
    client.cookies.update(member_cookies)
    assert (await client.get("/api/v1/users/me")).status_code == 401
    client.cookies.clear()
    keyed = await client.get("/api/v1/users/me", headers=bearer)
    assert keyed.status_code == 403
    assert keyed.json()["error"]["code"] == "account_suspended"
    assert "Abusive messages" in keyed.json()["error"]["message"]

    form = await post_form(client, "/login", {"login": "sus", "password": PASSWORD})
    assert form.status_code == 403
    assert "You are suspended on this platform until" in form.text
    assert "Abusive messages" in form.text
    api = await client.post("/api/v1/auth/login", json={"login": "sus", "password": PASSWORD})
    assert api.status_code == 403 and api.json()["error"]["code"] == "account_suspended"
    # A wrong password still says only that: no hint about the suspension.
    wrong = await client.post("/api/v1/auth/login", json={"login": "sus", "password": "nope"})
    assert wrong.status_code == 401

    await login(admin)
    lifted = await client.post(f"/api/v1/admin/penalties/{penalty_id}/lift",
                               json={"note": "Appeal granted"})
    assert lifted.status_code == 200 and lifted.json()["active"] is False
    client.cookies.clear()
    assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 200
    again = await client.post("/api/v1/auth/login", json={"login": "sus", "password": PASSWORD})
    assert again.status_code == 200


async def test_project_penalty_cannot_be_lifted_through_the_admin_url(
        client: httpx.AsyncClient, login: Login, db: None) -> None:
    admin = await make_user(admin=True)
    await make_user("t")
    await make_project("scoped")
    await login(admin)
    created = await client.post("/api/v1/projects/scoped/users/t/penalties", json=SILENCE)
    penalty_id = created.json()["id"]
    assert (await client.post(f"/api/v1/admin/penalties/{penalty_id}/lift",
                              json={})).status_code == 404
    assert (await client.post(f"/api/v1/projects/scoped/users/{'nobody'}/penalties/"
                              f"{penalty_id}/lift", json={})).status_code == 404


async def test_profile_outlet_links_moderators_to_the_penalties(platform: Platform) -> None:
    from types import SimpleNamespace

    template = platform.templates.get_template("moderation/penalties_profile_link.html")
    me, them = SimpleNamespace(id=1), SimpleNamespace(id=2, username="them")
    project = SimpleNamespace(slug="proj")

    def shown(user: object, viewer: object) -> bool:
        html = template.render(user=user, profile_user=them, project=project, viewer=viewer)
        return "/p/proj/u/them/penalties" in html

    assert shown(me, SimpleNamespace(is_moderator=True))
    assert not shown(me, SimpleNamespace(is_moderator=False))
    assert not shown(None, SimpleNamespace(is_moderator=False))
    assert not shown(them, SimpleNamespace(is_moderator=True))  # not on one's own profile
