"""The read API: topic lists with filters and a cursor, a topic with posts, categories,
tags and profiles, each limited to what the caller may read."""

from __future__ import annotations

import httpx

from forum.topics.models import Access, Post, Tag, TopicKind, TopicState
from tests.factories import add_member, make_project, make_user
from tests.support import Login
from tests.topics.read_data import accept, make_category, make_topic, posts_of


async def test_list_filters_and_cursor(client: httpx.AsyncClient, db: None) -> None:
    owner = await make_user("apiowner")
    other = await make_user()
    project = await make_project(owner=owner)
    general = await make_category(project, "general")
    ideas = await make_category(project, "ideas")
    tag = await Tag.create(project=project, name="py")
    for i in range(7):
        await make_topic(project, general, owner, title=f"General topic {i}")
    await make_topic(project, ideas, other, title="An idea topic", kind=TopicKind.DISCUSSION,
                     tags=[tag])
    base = f"/api/v1/projects/{project.slug}/topics"
    seen: list[str] = []
    cursor = ""
    for _ in range(5):
        data = (await client.get(f"{base}?limit=3" + (f"&cursor={cursor}" if cursor else ""))
                ).json()
        seen += [item["title"] for item in data["items"]]
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 8 == len(set(seen))
    assert seen[0] == "An idea topic"
    item = (await client.get(f"{base}?tag=py")).json()["items"]
    assert [i["title"] for i in item] == ["An idea topic"]
    assert item[0]["tags"] == ["py"] and item[0]["category"] == "ideas"
    assert item[0]["url"].startswith(f"/p/{project.slug}/t/")
    assert len((await client.get(f"{base}?category=general")).json()["items"]) == 7
    assert len((await client.get(f"{base}?kind=discussion")).json()["items"]) == 1
    assert len((await client.get(f"{base}?author=apiowner")).json()["items"]) == 7
    assert len((await client.get(f"{base}?list=unanswered")).json()["items"]) == 7
    assert len((await client.get(f"{base}?state=solved")).json()["items"]) == 0
    for bad in ("list=nope", "period=nope", "state=nope", "kind=nope", "limit=0",
                "limit=abc", "cursor=zzz"):
        response = await client.get(f"{base}?{bad}")
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "invalid"
    for missing in ("category=nope", "tag=nope", "author=nobody"):
        assert (await client.get(f"{base}?{missing}")).status_code == 404


async def test_lists_respect_permissions(client: httpx.AsyncClient, db: None,
                                         login: Login) -> None:
    owner = await make_user()
    member = await make_user()
    reporter = await make_user()
    project = await make_project(owner=owner)
    await add_member(project, member)
    public = await make_category(project, "public")
    team = await make_category(project, "team", read_access=Access.TEAM)
    security = await make_category(project, "security", private_topics=True)
    await make_topic(project, public, owner, title="Open topic")
    await make_topic(project, team, owner, title="Team topic")
    report = await make_topic(project, security, reporter, title="Report topic",
                              kind=TopicKind.SECURITY_REPORT, is_private=True)
    base = f"/api/v1/projects/{project.slug}/topics"
    for who, expected in ((None, {"Open topic"}), (member, {"Open topic"}),
                          (reporter, {"Open topic", "Report topic"}),
                          (owner, {"Open topic", "Team topic", "Report topic"})):
        await login(who)
        titles = {i["title"] for i in (await client.get(base)).json()["items"]}
        assert titles == expected, who
        status = (await client.get(f"/api/v1/topics/{report.id}")).status_code
        assert status == (200 if "Report topic" in expected else 404)
        slugs = {c["slug"] for c in (await client.get(
            f"/api/v1/projects/{project.slug}/categories")).json()["categories"]}
        assert ("team" in slugs) is (who is owner)
    await login(member)
    assert (await client.get(f"{base}?category=team")).status_code == 404


async def test_topic_with_posts(client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner = await make_user()
    helper = await make_user()
    project = await make_project(owner=owner)
    topic = await make_topic(project, await make_category(project), owner,
                             title="API question", replies=2, repliers=[helper])
    _, first, second = await posts_of(topic)
    await Post.filter(id=first.id).update(score=3)
    await accept(topic, second)
    data = (await client.get(f"/api/v1/topics/{topic.id}")).json()
    assert data["title"] == "API question" and data["project"] == project.slug
    assert data["state"] == TopicState.SOLVED.value
    assert [p["id"] for p in data["posts"]] == [p.id for p in await posts_of(topic)
                                                if p.number == 1] + [second.id, first.id]
    assert data["posts"][1]["accepted"] is True
    assert data["posts"][0]["my_vote"] is None
    await login(helper)
    data = (await client.get(f"/api/v1/topics/{topic.id}")).json()
    assert data["posts"][0]["my_vote"] == 0
    assert (await client.get("/api/v1/topics/999999")).status_code == 404
    hidden = await make_project(owner=owner, default_visibility="members")
    secret = await make_topic(hidden, await make_category(hidden), owner)
    assert (await client.get(f"/api/v1/topics/{secret.id}")).status_code == 404


async def test_tags_and_profile(client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner = await make_user()
    helper = await make_user("helpful")
    project = await make_project(owner=owner)
    await Tag.create(project=project, name="rare", topic_count=1)
    await Tag.create(project=project, name="common", topic_count=9, description="Often")
    tags = (await client.get(f"/api/v1/projects/{project.slug}/tags")).json()["tags"]
    assert [t["name"] for t in tags] == ["common", "rare"]
    public = await make_category(project, "public")
    team = await make_category(project, "team", read_access=Access.TEAM)
    topic = await make_topic(project, public, owner, replies=1, repliers=[helper])
    await make_topic(project, team, owner, replies=1, repliers=[helper])
    await make_topic(project, team, helper, title="Helper in team")
    answer = (await posts_of(topic))[1]
    await Post.filter(id=answer.id).update(upvotes=4, downvotes=1, score=3)
    await accept(topic, answer)
    url = f"/api/v1/projects/{project.slug}/users/helpful"
    data = (await client.get(url)).json()
    assert (data["answers"], data["accepted"], data["topics"]) == (1, 1, 0)
    assert (data["upvotes"], data["downvotes"]) == (4, 1)
    assert data["recent_topics"] == []
    await login(owner)
    data = (await client.get(url)).json()
    assert (data["answers"], data["topics"]) == (2, 1)
    assert (await client.get(f"/api/v1/projects/{project.slug}/users/nobody")).status_code \
        == 404


async def test_openapi_lists_read_endpoints(client: httpx.AsyncClient, db: None) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert "get" in paths["/api/v1/projects/{slug}/topics"]
    assert "get" in paths["/api/v1/topics/{id}"]
    for path in ("/api/v1/projects/{slug}/categories", "/api/v1/projects/{slug}/tags",
                 "/api/v1/projects/{slug}/users/{username}"):
        assert "get" in paths[path]
