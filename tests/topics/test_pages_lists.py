"""Project home, topic lists, category and tag pages: content, permissions, pagination."""

from __future__ import annotations

import re

import httpx

from forum.projects.models import Role
from forum.topics.models import Access, Tag, TopicKind, TopicState
from tests.factories import add_member, make_project, make_user
from tests.support import Login
from tests.topics.read_data import accept, make_category, make_topic, posts_of


def titles(html: str) -> list[str]:
    return re.findall(r'class="topic-title" href="[^"]+">([^<]+)</a>', html)


async def test_project_home_shows_categories_latest_and_ask_button(
        client: httpx.AsyncClient, db: None) -> None:
    owner = await make_user()
    project = await make_project("acme", owner=owner, description="Rockets and more")
    general = await make_category(project, "general", name="General help")
    await make_category(project, "sub", name="Sub help", parent=general)
    await make_topic(project, general, owner, title="How do rockets fly")
    response = await client.get("/p/acme")
    assert response.status_code == 200
    html = response.text
    assert "Rockets and more" in html
    assert "General help" in html and "Sub help" in html
    assert titles(html) == ["How do rockets fly"]
    assert 'href="/p/acme/new"' in html
    assert '<link rel="canonical" href="http://testserver/p/acme">' in html
    assert 'type="application/atom+xml"' in html


async def test_private_category_hidden_from_non_members_everywhere(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner = await make_user()
    member = await make_user()
    stranger = await make_user()
    project = await make_project(owner=owner)
    await add_member(project, member)
    public = await make_category(project, "public")
    secret = await make_category(project, "team", read_access=Access.TEAM)
    members = await make_category(project, "members", read_access=Access.MEMBERS)
    await make_topic(project, public, owner, title="Public question here")
    await make_topic(project, secret, owner, title="Team secret plans")
    await make_topic(project, members, owner, title="Members only chat")
    slug = project.slug
    for who, visible in ((None, {"Public question here"}),
                         (stranger, {"Public question here"}),
                         (member, {"Public question here", "Members only chat"}),
                         (owner, {"Public question here", "Members only chat",
                                  "Team secret plans"})):
        await login(who)
        for path in (f"/p/{slug}", f"/p/{slug}/latest", f"/p/{slug}/top",
                     f"/p/{slug}/unanswered", f"/p/{slug}/unsolved"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert set(titles(response.text)) == visible, (who, path)
    await login(stranger)
    assert (await client.get(f"/p/{slug}/c/team")).status_code == 404
    assert (await client.get(f"/p/{slug}/c/members")).status_code == 404
    await login(member)
    assert (await client.get(f"/p/{slug}/c/members")).status_code == 200
    assert (await client.get(f"/p/{slug}/c/team")).status_code == 404


async def test_security_report_visible_to_author_and_team_only(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner = await make_user()
    reporter = await make_user()
    other = await make_user()
    project = await make_project(owner=owner)
    security = await make_category(project, "security", private_topics=True)
    report = await make_topic(project, security, reporter, title="Overflow in parser",
                              kind=TopicKind.SECURITY_REPORT, is_private=True)
    slug = project.slug
    for who, sees in ((reporter, True), (owner, True), (other, False), (None, False)):
        await login(who)
        listed = "Overflow in parser" in (await client.get(f"/p/{slug}/latest")).text
        assert listed is sees, who
        status = (await client.get(f"/p/{slug}/t/{report.id}-{report.slug}")).status_code
        assert status == (200 if sees else 404), who
        profile = await client.get(f"/p/{slug}/u/{reporter.username}")
        assert ("Overflow in parser" in profile.text) is sees


async def test_deleted_topics_only_for_moderators(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    from datetime import UTC, datetime

    owner = await make_user()
    member = await make_user()
    project = await make_project(owner=owner)
    await add_member(project, member)
    category = await make_category(project)
    await make_topic(project, category, member, title="Gone topic title",
                     deleted_at=datetime.now(UTC))
    await login(member)
    assert "Gone topic title" not in (await client.get(f"/p/{project.slug}/latest")).text
    await login(owner)
    page = (await client.get(f"/p/{project.slug}/latest")).text
    assert "Gone topic title" in page and "deleted" in page


async def test_lists_select_the_right_topics(client: httpx.AsyncClient, db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    await make_topic(project, category, owner, title="Unanswered question")
    answered = await make_topic(project, category, owner, title="Answered question",
                                replies=1)
    solved = await make_topic(project, category, owner, title="Solved question", replies=1)
    await accept(solved, (await posts_of(solved))[1])
    await make_topic(project, category, owner, title="Just a discussion",
                     kind=TopicKind.DISCUSSION)
    await make_topic(project, category, owner, title="Closed question",
                     state=TopicState.CLOSED)
    await make_topic(project, category, owner, title="Popular question", score=10)
    slug = project.slug
    assert set(titles((await client.get(f"/p/{slug}/unanswered")).text)) == {
        "Unanswered question", "Popular question"}
    assert set(titles((await client.get(f"/p/{slug}/unsolved")).text)) == {
        "Unanswered question", "Answered question", "Popular question"}
    assert titles((await client.get(f"/p/{slug}/solved")).text) == ["Solved question"]
    top = titles((await client.get(f"/p/{slug}/top?period=all")).text)
    assert top[0] == "Popular question" and len(top) == 6
    assert titles((await client.get(f"/p/{slug}/top?period=day")).text) == []
    assert answered.id
    assert (await client.get(f"/p/{slug}/top?period=fortnight")).status_code == 422


async def test_category_page_includes_subcategories_and_tag_page(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    parent = await make_category(project, "parent", description="Parent things")
    child = await make_category(project, "child", parent=parent)
    other = await make_category(project, "other")
    tag = await Tag.create(project=project, name="python", description="The language",
                           topic_count=1)
    await make_topic(project, parent, owner, title="In the parent")
    await make_topic(project, child, owner, title="In the child", tags=[tag])
    await make_topic(project, other, owner, title="Somewhere else")
    page = await client.get(f"/p/{project.slug}/c/parent")
    assert set(titles(page.text)) == {"In the parent", "In the child"}
    assert "Parent things" in page.text
    assert "/new?category=parent" not in page.text  # anonymous: no button
    await login(owner)
    page = await client.get(f"/p/{project.slug}/c/parent")
    assert f'href="/p/{project.slug}/new?category=parent"' in page.text
    tag_page = await client.get(f"/p/{project.slug}/tag/python")
    assert titles(tag_page.text) == ["In the child"]
    assert "The language" in tag_page.text
    assert (await client.get(f"/p/{project.slug}/tag/nope")).status_code == 404
    assert (await client.get(f"/p/{project.slug}/c/nope")).status_code == 404


async def test_keyset_pagination_no_duplicates_or_skips_with_inserts(
        client: httpx.AsyncClient, db: None) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    for i in range(65):
        await make_topic(project, category, owner, title=f"Paged topic {i:03d}")
    seen: list[str] = []
    url: str | None = f"/p/{project.slug}/latest"
    pages = 0
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        seen += titles(response.text)
        # Newer topics arrive between page loads: they go on top, never into later pages.
        await make_topic(project, category, owner, title=f"Inserted {pages}")
        match = re.search(r'rel="next" href="([^"]+)"', response.text)
        url = match.group(1).replace("&amp;", "&") if match else None
        pages += 1
    assert pages == 3
    assert seen == [f"Paged topic {i:03d}" for i in range(64, -1, -1)]


async def test_bad_cursor_is_422_not_500(client: httpx.AsyncClient, db: None) -> None:
    project = await make_project(owner=await make_user())
    for cursor in ("garbage", "W10", "WyJ4IiwxXQ", "!!!"):
        response = await client.get(f"/p/{project.slug}/latest?before={cursor}")
        assert response.status_code == 422, cursor


async def test_members_only_project_is_404_for_strangers(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner = await make_user()
    project = await make_project(owner=owner, default_visibility="members")
    await make_category(project)
    assert (await client.get(f"/p/{project.slug}/latest")).status_code == 404
    member = await make_user()
    await add_member(project, member, Role.MEMBER)
    await login(member)
    assert (await client.get(f"/p/{project.slug}/latest")).status_code == 200
