"""Terms of service and codes of conduct: publishing versions, accepting them, and the gate
that asks for acceptance before a user's first topic or reply in a project."""

from __future__ import annotations

from typing import Any

import httpx

from forum.gates import Act, Attempt
from forum.moderation.audit import AuditEntry
from forum.moderation.penalty_models import TermsAcceptance, TermsDocument
from forum.platform import Platform
from forum.projects.models import Project, Role
from forum.topics.categories import ensure_default_categories
from tests.factories import add_member, make_project, make_user
from tests.support import Login, post_form

COC = {"kind": "code_of_conduct", "source": "# Be kind\n\nNo *harassment*."}


class Topics:
    """Distinct topics for one project (the same text twice would be a duplicate post)."""

    def __init__(self, category_id: int) -> None:
        self.category_id = category_id
        self.count = 0

    def body(self) -> dict[str, Any]:
        self.count += 1
        return {"title": f"Where is changelog number {self.count} kept?",
                "source": f"I looked everywhere, {self.count} times.",
                "category_id": self.category_id}


async def post_topic(client: httpx.AsyncClient, slug: str, topics: Topics) -> int:
    return (await client.post(f"/api/v1/projects/{slug}/topics", json=topics.body())).status_code


async def topics_for(project: Project) -> Topics:
    categories = {c.slug: c for c in await ensure_default_categories(project)}
    return Topics(categories["questions"].id)


async def test_a_project_without_documents_asks_nothing(db: None, platform: Platform) -> None:
    user, project = await make_user(), await make_project()
    for act in (Act.CREATE_TOPIC, Act.REPLY, Act.OPEN_TICKET):
        assert await platform.refusal(Attempt(act, user.id, project.id)) is None


async def test_publish_accept_and_republish(client: httpx.AsyncClient, login: Login,
                                            db: None) -> None:
    lead, member = await make_user(), await make_user()
    project = await make_project("rules")
    await add_member(project, lead, Role.LEAD)
    await add_member(project, member)
    topics = await topics_for(project)

    await login(lead)
    published = await client.post("/api/v1/projects/rules/terms", json=COC)
    assert published.status_code == 201
    assert published.json()["version"] == 1
    assert "<em>harassment</em>" in published.json()["html"]
    # The publisher has read it: they may post at once.
    assert await post_topic(client, "rules", topics) == 201

    await login(member)
    refused = await client.post("/api/v1/projects/rules/topics", json=topics.body())
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "Accept the project's terms and code of conduct first: http://testserver/p/rules/terms")
    shown = (await client.get("/api/v1/projects/rules/terms")).json()
    assert shown["all_accepted"] is False
    assert [(d["kind"], d["version"], d["accepted"]) for d in shown["documents"]] == [
        ("code_of_conduct", 1, False)]
    accepted = await client.post("/api/v1/projects/rules/terms/accept", json={})
    assert accepted.status_code == 200
    assert [d["version"] for d in accepted.json()["accepted"]] == [1]
    twice = await client.post("/api/v1/projects/rules/terms/accept", json={})
    assert twice.json()["accepted"] == []
    assert await post_topic(client, "rules", topics) == 201
    row = await TermsAcceptance.get(user_id=member.id)
    assert row.version == 1 and row.accepted_at is not None

    await login(lead)
    second = await client.post("/api/v1/projects/rules/terms",
                               json={**COC, "source": "Be kind. Also: no spam."})
    assert second.json()["version"] == 2
    await login(member)
    again = await client.post("/api/v1/projects/rules/topics", json=topics.body())
    assert again.status_code == 403
    assert "Accept the project's terms" in again.json()["error"]["message"]
    page = await client.get("/p/rules/terms")
    assert page.status_code == 200 and "no spam" in page.text and 'id="terms-accept"' in page.text
    form = await post_form(client, "/p/rules/terms/accept", {}, page="/p/rules/terms")
    assert form.status_code == 303
    assert await post_topic(client, "rules", topics) == 201
    assert await TermsAcceptance.filter(user_id=member.id).count() == 2
    actions = [e.action for e in await AuditEntry.filter(project_id=project.id)]
    assert actions == ["terms.published", "terms.published"]


async def test_only_leads_publish_a_projects_terms_and_only_admins_the_platforms(
        client: httpx.AsyncClient, login: Login, db: None) -> None:
    owner, maintainer, moderator, member = [await make_user() for _ in range(4)]
    project = await make_project("guarded", owner=owner)
    await add_member(project, maintainer, Role.MAINTAINER)
    await add_member(project, moderator, Role.MODERATOR)
    await add_member(project, member)
    outside_lead = await make_user()
    other = await make_project("other-proj")
    await add_member(other, outside_lead, Role.LEAD)

    for user in (maintainer, moderator, member, outside_lead):
        await login(user)
        assert (await client.post("/api/v1/projects/guarded/terms", json=COC)).status_code == 403
        assert (await client.get("/p/guarded/terms/publish")).status_code == 403
        assert (await client.post("/api/v1/admin/terms", json=COC)).status_code == 403
        assert (await client.get("/admin/terms")).status_code == 403
    await login(owner)
    assert (await client.post("/api/v1/admin/terms", json=COC)).status_code == 403
    assert await TermsDocument.all().count() == 0

    empty = await post_form(client, "/p/guarded/terms/publish",
                            {"kind": "terms", "source": "   "})
    assert empty.status_code == 422
    bad_kind = await client.post("/api/v1/projects/guarded/terms",
                                 json={"kind": "manifesto", "source": "x"})
    assert bad_kind.status_code == 422
    ok = await post_form(client, "/p/guarded/terms/publish", {"kind": "terms", "source": "Ok."})
    assert ok.status_code == 303
    assert await TermsDocument.filter(project_id=project.id).count() == 1


async def test_platform_terms_apply_in_every_project(client: httpx.AsyncClient, login: Login,
                                                     db: None) -> None:
    admin, member = await make_user(admin=True), await make_user()
    project = await make_project("anyproj")
    await add_member(project, member)
    topics = await topics_for(project)
    await login(admin)
    published = await client.post("/api/v1/admin/terms",
                                  json={"kind": "terms", "source": "Platform terms."})
    assert published.status_code == 201 and published.json()["project"] is None

    await login(member)
    refused = await client.post("/api/v1/projects/anyproj/topics", json=topics.body())
    assert refused.status_code == 403
    shown = (await client.get("/api/v1/projects/anyproj/terms")).json()
    assert [(d["project"], d["kind"]) for d in shown["documents"]] == [(None, "terms")]
    platform_page = await client.get("/terms")
    assert platform_page.status_code == 200 and "Platform terms." in platform_page.text
    accepted = await client.post("/api/v1/terms/accept", json={})
    assert accepted.json()["accepted"][0]["version"] == 1
    assert await post_topic(client, "anyproj", topics) == 201
    assert (await client.get("/api/v1/terms")).json()["all_accepted"] is True


async def test_demo_publishes_a_code_of_conduct_its_users_accepted(db: None,
                                                                   platform: Platform) -> None:
    from forum.moderation.penalties_plugin import forum_demo

    owner, member, outsider = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=owner)
    await add_member(project, member)
    assert await forum_demo(platform, project.id, {"admin": outsider.id}) == [
        "code of conduct v1"]
    assert await forum_demo(platform, project.id, {"admin": outsider.id}) == []  # idempotent
    [doc] = await TermsDocument.all()
    assert (doc.project_id, doc.kind, doc.version) == (project.id, "code_of_conduct", 1)
    for user in (owner, member, outsider):
        assert await platform.refusal(Attempt(Act.REPLY, user.id, project.id)) is None
    newcomer = await make_user()
    assert await platform.refusal(Attempt(Act.REPLY, newcomer.id, project.id)) is not None


async def test_pages_render_for_each_kind_of_visitor(client: httpx.AsyncClient, login: Login,
                                                     db: None) -> None:
    admin, lead = await make_user(admin=True), await make_user()
    project = await make_project("pages")
    await add_member(project, lead, Role.LEAD)
    empty = await client.get("/p/pages/terms")
    assert empty.status_code == 200 and 'id="terms-none"' in empty.text

    await login(lead)
    form = await client.get("/p/pages/terms/publish")
    assert form.status_code == 200 and 'id="terms-publish"' in form.text
    assert (await post_form(client, "/p/pages/terms/publish",
                            {"kind": "code_of_conduct", "source": "Be **kind**."})
            ).status_code == 303
    own = await client.get("/p/pages/terms")
    assert 'id="terms-accepted"' in own.text and "/p/pages/terms/publish" in own.text

    await login(admin)
    admin_form = await client.get("/admin/terms")
    assert admin_form.status_code == 200
    assert (await post_form(client, "/admin/terms", {"kind": "terms", "source": "Rules."})
            ).status_code == 303

    await login(None)
    anonymous = await client.get("/p/pages/terms")
    assert anonymous.status_code == 200
    assert "<strong>kind</strong>" in anonymous.text and "Rules." in anonymous.text
    assert "to accept them" in anonymous.text and 'id="terms-accept"' not in anonymous.text
    api = (await client.get("/api/v1/projects/pages/terms")).json()
    assert [(d["project"], d["kind"], d["accepted"]) for d in api["documents"]] == [
        (None, "terms", False), ("pages", "code_of_conduct", False)]
    assert (await client.post("/api/v1/projects/pages/terms/accept",
                              json={})).status_code == 401
