"""The audit log: what gets written (``record``, moderator actions heard as topics events),
who may read it, and its filters and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from forum.moderation.audit import AuditEntry, record
from forum.platform import Platform
from forum.projects.models import Role, Visibility
from forum.topics.categories import ensure_default_categories
from tests.factories import add_member, make_project, make_user
from tests.support import Login


async def test_record_writes_an_entry(db: None) -> None:
    actor = await make_user()
    project = await make_project()
    await record(project.id, actor.id, "penalty.silence", "user", 42, {"reason": "spam"})
    await record(None, None, "terms.published", "terms", None)
    entries = await AuditEntry.all().order_by("id")
    assert [(e.project_id, e.actor_id, e.action, e.target_type, e.target_id, e.detail)
            for e in entries] == [
        (project.id, actor.id, "penalty.silence", "user", 42, {"reason": "spam"}),
        (None, None, "terms.published", "terms", None, {}),
    ]


async def test_only_owner_leads_and_admins_read_a_projects_log(
        client: httpx.AsyncClient, login: Login, db: None) -> None:
    owner, lead, moderator, member = [await make_user() for _ in range(4)]
    admin = await make_user(admin=True)
    project = await make_project("logged", owner=owner)
    await add_member(project, lead, Role.LEAD)
    await add_member(project, moderator, Role.MODERATOR)
    await add_member(project, member)
    await record(project.id, moderator.id, "post.deleted", "post", 7)

    for user in (owner, lead, admin):
        await login(user)
        page = await client.get("/p/logged/audit")
        assert page.status_code == 200 and "post.deleted" in page.text
        api = await client.get("/api/v1/projects/logged/audit")
        assert api.status_code == 200 and api.json()["entries"][0]["action"] == "post.deleted"
    for user in (moderator, member):
        await login(user)
        assert (await client.get("/p/logged/audit")).status_code == 403
        assert (await client.get("/api/v1/projects/logged/audit")).status_code == 403
        assert (await client.get("/api/v1/admin/audit")).status_code == 403
        assert (await client.get("/admin/audit")).status_code == 403
    await login(None)
    assert (await client.get("/api/v1/projects/logged/audit")).status_code == 401
    assert (await client.get("/p/logged/audit")).status_code == 303


async def test_a_lead_of_another_project_cannot_read_it(client: httpx.AsyncClient,
                                                        login: Login, db: None) -> None:
    lead = await make_user()
    mine = await make_project("lead-here")
    await add_member(mine, lead, Role.LEAD)
    await make_project("public-other")
    await make_project("hidden-other", default_visibility=Visibility.MEMBERS)
    await login(lead)
    assert (await client.get("/api/v1/projects/public-other/audit")).status_code == 403
    assert (await client.get("/api/v1/projects/hidden-other/audit")).status_code == 404
    assert (await client.get("/api/v1/projects/lead-here/audit")).status_code == 200


async def test_filters_and_pages(client: httpx.AsyncClient, login: Login, db: None) -> None:
    admin = await make_user(admin=True)
    mod = await make_user("modly")
    project, other = await make_project("filtered"), await make_project("elsewhere")
    for n in range(55):
        await record(project.id, admin.id, "post.deleted", "post", n)
    await record(project.id, mod.id, "penalty.silence", "user", 99)
    await record(project.id, mod.id, "penalty.lifted", "user", 99)
    await record(other.id, mod.id, "penalty.ban", "user", 5)
    await record(None, admin.id, "penalty.suspend", "user", 6)
    await login(admin)

    first = (await client.get("/api/v1/projects/filtered/audit")).json()
    assert len(first["entries"]) == 50 and first["next_before"] is not None
    assert first["entries"][0]["action"] == "penalty.lifted"
    rest = (await client.get("/api/v1/projects/filtered/audit",
                             params={"before": first["next_before"]})).json()
    assert len(rest["entries"]) == 7 and rest["next_before"] is None
    ids = [e["id"] for e in first["entries"] + rest["entries"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 57

    by_actor = (await client.get("/api/v1/projects/filtered/audit",
                                 params={"actor": "MODLY"})).json()["entries"]
    assert [e["action"] for e in by_actor] == ["penalty.lifted", "penalty.silence"]
    by_action = (await client.get("/api/v1/projects/filtered/audit",
                                  params={"action": "penalty"})).json()["entries"]
    assert {e["action"] for e in by_action} == {"penalty.silence", "penalty.lifted"}
    by_target = (await client.get("/api/v1/projects/filtered/audit",
                                  params={"target_type": "post", "target_id": "3"})).json()
    assert [e["target_id"] for e in by_target["entries"]] == [3]
    unknown_actor = (await client.get("/api/v1/projects/filtered/audit",
                                      params={"actor": "ghost"})).json()
    assert unknown_actor["entries"] == []

    today = datetime.now(UTC).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert len((await client.get("/api/v1/projects/filtered/audit", params={
        "since": today.isoformat(), "until": today.isoformat()})).json()["entries"]) == 50
    assert (await client.get("/api/v1/projects/filtered/audit", params={
        "since": tomorrow})).json()["entries"] == []
    bad = await client.get("/api/v1/projects/filtered/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and "since" in bad.json()["error"]["fields"]
    assert (await client.get("/api/v1/projects/filtered/audit",
                             params={"before": "-4"})).status_code == 422

    page = await client.get("/p/filtered/audit", params={"action": "penalty"})
    assert page.status_code == 200
    assert "<code>penalty.silence</code>" in page.text
    assert page.text.count('class="audit-entry"') == 2

    everything = (await client.get("/api/v1/admin/audit",
                                   params={"action": "penalty"})).json()["entries"]
    assert [(e["project"], e["action"]) for e in everything] == [
        (None, "penalty.suspend"), ("elsewhere", "penalty.ban"),
        ("filtered", "penalty.lifted"), ("filtered", "penalty.silence")]
    platform_only = (await client.get("/api/v1/admin/audit",
                                      params={"project": "platform"})).json()["entries"]
    assert [e["action"] for e in platform_only] == ["penalty.suspend"]
    one_project = (await client.get("/api/v1/admin/audit",
                                    params={"project": "elsewhere"})).json()["entries"]
    assert [e["action"] for e in one_project] == ["penalty.ban"]
    admin_page = await client.get("/admin/audit")
    assert admin_page.status_code == 200 and "penalty.suspend" in admin_page.text


async def test_moderator_actions_on_topics_are_logged(client: httpx.AsyncClient, login: Login,
                                                      db: None, platform: Platform) -> None:
    moderator, author = await make_user("mod"), await make_user("writer")
    project = await make_project("acts")
    await add_member(project, moderator, Role.MODERATOR)
    await add_member(project, author)
    questions = {c.slug: c for c in await ensure_default_categories(project)}["questions"]
    json_headers = {"content-type": "application/json"}  # a JSON request needs no CSRF token
    await login(author)
    created = await client.post("/api/v1/projects/acts/topics", json={
        "title": "Why does the parser choke?", "source": "On every input.",
        "category_id": questions.id})
    assert created.status_code == 201
    topic_id = created.json()["id"]
    reply = await client.post(f"/api/v1/topics/{topic_id}/posts", json={"source": "Me too."})
    own_reply = await client.post(f"/api/v1/topics/{topic_id}/posts",
                                  json={"source": "Never mind, found it."})
    assert reply.status_code == own_reply.status_code == 201
    # The author's own changes are not moderator actions.
    deleted = await client.delete(f"/api/v1/posts/{own_reply.json()['id']}",
                                  headers=json_headers)
    assert deleted.status_code == 204, deleted.text
    assert (await client.patch(f"/api/v1/topics/{topic_id}",
                               json={"title": "Why does the parser choke on input?"})
            ).status_code == 200
    assert await AuditEntry.all().count() == 0

    await login(moderator)
    assert (await client.delete(f"/api/v1/posts/{reply.json()['id']}",
                                headers=json_headers)).status_code == 204
    assert (await client.patch(f"/api/v1/topics/{topic_id}",
                               json={"locked": True})).status_code == 200
    entries = await AuditEntry.all().order_by("id")
    assert [(e.project_id, e.actor_id, e.action, e.target_type, e.target_id)
            for e in entries] == [
        (project.id, moderator.id, "post.deleted", "post", reply.json()["id"]),
        (project.id, moderator.id, "topic.locked", "topic", topic_id),
    ]
    assert entries[0].detail["author_id"] == author.id
