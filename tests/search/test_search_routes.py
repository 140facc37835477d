"""The search page, the search API and duplicate suggestions, across permission boundaries.

Each test tries to cross a boundary through both the web page and the JSON API: a private
category, a security report, deleted posts, another project.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from forum.platform import Platform
from forum.projects.models import Role
from forum.topics.models import Post
from tests.factories import add_member, make_project, make_user
from tests.search.data import add_post, index, make_category, make_topic
from tests.support import Login


async def api_ids(client: httpx.AsyncClient, slug: str, q: str, **params: str) -> list[int]:
    response = await client.get(f"/api/v1/projects/{slug}/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return [hit["post_id"] for hit in response.json()["hits"]]


async def page_text(client: httpx.AsyncClient, slug: str, q: str, **params: str) -> str:
    response = await client.get(f"/p/{slug}/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.text


async def test_search_page_links_to_posts_with_highlighted_snippets(
        client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_user()
    project = await make_project("acme", owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, "Flaky tests", "the <b>runner</b> hangs")
    reply = await add_post(topic, owner, "the runner hangs on windows too")
    await index(platform, topic)
    text = await page_text(client, "acme", "hangs")
    assert f'href="/p/acme/t/{topic.id}-flaky-tests#post-1"' in text
    assert f'href="/p/acme/t/{topic.id}-flaky-tests#post-2"' in text
    assert "<mark>hangs</mark>" in text
    assert "<b>runner</b>" not in text  # the post's text is escaped, only <mark> is markup
    assert "2 results" in text
    body = (await client.get("/api/v1/projects/acme/search", params={"q": "windows"})).json()
    assert body["total"] == 1 and body["page"] == 1
    [hit] = body["hits"]
    assert hit["post_id"] == reply.id and hit["number"] == 2
    assert hit["url"] == f"/p/acme/t/{topic.id}-flaky-tests#post-2"
    assert "<mark>windows</mark>" in hit["snippet"]


async def test_empty_hostile_and_invalid_queries(client: httpx.AsyncClient,
                                                 platform: Platform) -> None:
    owner = await make_user()
    project = await make_project("acme", owner=owner)
    await index(platform, await make_topic(project, await make_category(project), owner,
                                           "Anything", "text"))
    assert "result" not in await page_text(client, "acme", "")
    for q in ["AND OR NOT", '"', "()*^:", "x" * 10_000, "text " * 3000, "NEAR(a b)"]:
        assert (await client.get("/p/acme/search", params={"q": q})).status_code == 200
        assert (await client.get("/api/v1/projects/acme/search",
                                 params={"q": q})).status_code == 200
    assert await api_ids(client, "acme", "AND OR NOT") == []
    for bad in [{"after": "yesterday"}, {"state": "melted"}, {"kind": "x"}, {"page": "0"},
                {"page": "x"}, {"tag": "t" * 500}]:
        response = await client.get("/api/v1/projects/acme/search", params={"q": "text", **bad})
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"]
        assert (await client.get("/p/acme/search",
                                 params={"q": "text", **bad})).status_code == 422
    assert (await client.get("/api/v1/projects/nope/search", params={"q": "x"})).status_code == 404


async def test_private_category_is_not_found_by_non_members(
        client: httpx.AsyncClient, platform: Platform, login: Login) -> None:
    owner, member, outsider = await make_user(), await make_user(), await make_user()
    project = await make_project("acme", owner=owner)
    await add_member(project, member)
    hidden = await make_category(project, "internal", read_access="members")
    topic = await make_topic(project, hidden, owner, "Roadmap draft", "confidential roadmap")
    await index(platform, topic)
    post_id = (await Post.get(topic=topic)).id
    for viewer in (None, outsider):
        await login(viewer)
        assert await api_ids(client, "acme", "roadmap") == []
        assert await api_ids(client, "acme", "roadmap", category="internal") == []
        assert "Roadmap draft" not in await page_text(client, "acme", "roadmap")
        similar = await client.get("/api/v1/projects/acme/similar", params={"title": "roadmap"})
        assert similar.json() == []
    await login(member)
    assert await api_ids(client, "acme", "roadmap") == [post_id]
    assert "Roadmap draft" in await page_text(client, "acme", "roadmap")


async def test_security_report_found_by_its_author_and_the_team_only(
        client: httpx.AsyncClient, platform: Platform, login: Login) -> None:
    owner, reporter, member, supporter = (await make_user(), await make_user(),
                                          await make_user(), await make_user())
    project = await make_project("acme", owner=owner)
    await add_member(project, reporter)
    await add_member(project, member)
    await add_member(project, supporter, Role.SUPPORTER)
    security = await make_category(project, "security", private_topics=True)
    report = await make_topic(project, security, reporter, "XSS in profile", "payload works",
                              kind="security_report", is_private=True)
    await add_post(report, supporter, "confirmed the payload")
    await index(platform, report)
    for viewer in (None, member):
        await login(viewer)
        assert await api_ids(client, "acme", "payload") == []
        assert "XSS in profile" not in await page_text(client, "acme", "payload")
        assert (await client.get("/api/v1/projects/acme/similar",
                                 params={"title": "xss profile"})).json() == []
        fragment = await client.get("/p/acme/similar", params={"title": "xss profile"})
        assert "XSS" not in fragment.text
    for viewer in (reporter, supporter, owner):
        await login(viewer)
        assert len(await api_ids(client, "acme", "payload")) == 2
        assert "XSS in profile" in await page_text(client, "acme", "payload")


async def test_deleted_posts_only_for_moderators(
        client: httpx.AsyncClient, platform: Platform, login: Login) -> None:
    owner, author, moderator = await make_user(), await make_user(), await make_user()
    project = await make_project("acme", owner=owner)
    await add_member(project, author)
    await add_member(project, moderator, Role.MODERATOR)
    category = await make_category(project)
    topic = await make_topic(project, category, author, "Cats", "a cat picture")
    removed = await add_post(topic, author, "spam spam link", deleted_at=datetime.now(UTC))
    gone = await make_topic(project, category, author, "Spam topic", "spam offer",
                            deleted_at=datetime.now(UTC))
    await index(platform, topic, gone)
    for viewer in (None, author):  # not even the author of the deleted post
        await login(viewer)
        assert await api_ids(client, "acme", "spam") == []
        text = await page_text(client, "acme", "spam")
        assert "0 results" in text and "Spam topic" not in text and "Cats" not in text
    await login(moderator)
    found = await api_ids(client, "acme", "spam")
    assert removed.id in found and len(found) == 2
    assert "Spam topic" in await page_text(client, "acme", "spam")


async def test_another_projects_topics_are_never_found(
        client: httpx.AsyncClient, platform: Platform, login: Login) -> None:
    owner = await make_user()
    admin = await make_user(admin=True)
    mine = await make_project("mine", owner=owner)
    theirs = await make_project("theirs", owner=owner)
    here = await make_topic(mine, await make_category(mine), owner, "Local", "zeppelin")
    there = await make_topic(theirs, await make_category(theirs), owner, "Foreign", "zeppelin")
    await index(platform, here, there)
    for viewer in (owner, admin):
        await login(viewer)
        ids = await api_ids(client, "mine", "zeppelin")
        assert ids == [(await Post.get(topic=here)).id]
        assert "Foreign" not in await page_text(client, "mine", "zeppelin")
        similar = (await client.get("/api/v1/projects/mine/similar",
                                    params={"title": "zeppelin foreign"})).json()
        assert [s["topic_id"] for s in similar] == [here.id]


async def test_members_only_project_search_is_not_found_for_outsiders(
        client: httpx.AsyncClient, platform: Platform, login: Login) -> None:
    owner = await make_user()
    project = await make_project("closed", owner=owner, default_visibility="members")
    await index(platform, await make_topic(project, await make_category(project), owner,
                                           "Inside", "secret"))
    await login(await make_user())
    assert (await client.get("/api/v1/projects/closed/search",
                             params={"q": "secret"})).status_code == 404
    assert (await client.get("/p/closed/search", params={"q": "secret"})).status_code == 404


async def test_similar_fragment_and_api(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_user()
    project = await make_project("acme", owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner, "Upload fails with large files", "x")
    await index(platform, topic)
    response = await client.get("/p/acme/similar", params={"title": "large upload"})
    assert response.status_code == 200
    assert f'href="/p/acme/t/{topic.id}-upload-fails-with-large-files"' in response.text
    body: Any = (await client.get("/api/v1/projects/acme/similar",
                                  params={"title": "large upload"})).json()
    assert body == [{"topic_id": topic.id, "title": "Upload fails with large files",
                     "url": f"/p/acme/t/{topic.id}-upload-fails-with-large-files"}]
    empty = await client.get("/p/acme/similar", params={"title": ""})
    assert empty.status_code == 200 and "href" not in empty.text
    assert (await client.get("/api/v1/projects/acme/similar",
                             params={"title": "y" * 5000})).json() == []


async def test_search_and_similar_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert "get" in paths["/api/v1/projects/{slug}/search"]
    assert "get" in paths["/api/v1/projects/{slug}/similar"]
