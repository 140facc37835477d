"""Badge pages and their API: the catalogue, who earned a badge, a user's badges; read
access of private projects and posts is respected."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from forum.platform import Platform
from forum.projects.models import Project, Role
from forum.reputation.badges import evaluate_project
from forum.topics.models import Access, Category, Post
from tests.factories import add_member, make_project, make_user
from tests.reputation.badge_data import question, set_score
from tests.support import Login
from tests.topics.read_data import make_category

pytestmark = pytest.mark.usefixtures("db")


async def earned(platform: Platform, **project_fields: object) -> tuple[Project, int]:
    """A project where "helper" earned Nice Answer and Teacher; returns it and the post."""
    owner, helper = await make_user(), await make_user("helper")
    project = await make_project(owner=owner, **project_fields)
    await add_member(project, helper)
    _, posts = await question(project, await make_category(project), owner,
                              answerers=[helper])
    await set_score(posts[1], 10)
    await evaluate_project(platform, project.id)
    return project, posts[1].id


async def test_badge_pages(client: httpx.AsyncClient, platform: Platform) -> None:
    project, post_id = await earned(platform)
    page = await client.get(f"/p/{project.slug}/badges")
    assert page.status_code == 200
    assert 'data-badge="nice-answer"' in page.text and "Great Answer" in page.text
    assert page.text.index("Great Answer") < page.text.index("Nice Answer")  # gold first
    detail = await client.get(f"/p/{project.slug}/badges/nice-answer")
    assert detail.status_code == 200
    assert 'data-username="helper"' in detail.text
    assert "#post-2" in detail.text
    nobody = await client.get(f"/p/{project.slug}/badges/great-answer")
    assert "Nobody has earned this badge yet." in nobody.text
    assert (await client.get(f"/p/{project.slug}/badges/no-such-badge")).status_code == 404
    mine = await client.get(f"/p/{project.slug}/u/helper/badges")
    assert mine.status_code == 200
    assert 'data-badge="nice-answer"' in mine.text and 'data-badge="teacher"' in mine.text
    assert '<dd class="stat-bronze">2</dd>' in mine.text
    moved = await client.get(f"/p/{project.slug}/u/HELPER/badges")
    assert moved.status_code == 301
    assert moved.headers["location"] == f"/p/{project.slug}/u/helper/badges"
    assert (await client.get(f"/p/{project.slug}/u/nobody/badges")).status_code == 404
    assert post_id


async def test_badge_api(client: httpx.AsyncClient, platform: Platform) -> None:
    project, post_id = await earned(platform)
    listed = (await client.get(f"/api/v1/projects/{project.slug}/badges")).json()["badges"]
    by_slug = {b["slug"]: b for b in listed}
    assert by_slug["nice-answer"] == {
        "slug": "nice-answer", "name": "Nice Answer", "level": "bronze", "multiple": True,
        "awarded": 1, "description": "Answer score of 10 or more."}
    assert by_slug["great-answer"]["awarded"] == 0
    assert [b["level"] for b in listed] == sorted(
        (b["level"] for b in listed), key=["gold", "silver", "bronze"].index)
    detail = (await client.get(f"/api/v1/projects/{project.slug}/badges/nice-answer")).json()
    assert [(a["username"], a["post_id"]) for a in detail["awards"]] == [("helper", post_id)]
    assert detail["awards"][0]["url"].endswith("#post-2")
    assert detail["next_cursor"] is None
    bad = await client.get(f"/api/v1/projects/{project.slug}/badges/nice-answer?cursor=x")
    assert bad.status_code == 422
    assert (await client.get(f"/api/v1/projects/{project.slug}/badges/nope")).status_code \
        == 404
    mine = (await client.get(f"/api/v1/projects/{project.slug}/users/helper/badges")).json()
    assert mine["counts"] == {"gold": 0, "silver": 0, "bronze": 2}
    assert sorted(b["slug"] for b in mine["badges"]) == ["nice-answer", "teacher"]
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    for path in ("/api/v1/projects/{slug}/badges", "/api/v1/projects/{slug}/badges/{badge}",
                 "/api/v1/projects/{slug}/users/{username}/badges"):
        assert "get" in paths[path]


async def test_awards_page_on(client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    for _ in range(52):
        _, posts = await question(project, category, owner, answerers=[await make_user()])
        await set_score(posts[1], 1)
    await evaluate_project(platform, project.id)
    url = f"/api/v1/projects/{project.slug}/badges/teacher"
    first = (await client.get(url)).json()
    assert len(first["awards"]) == 50 and first["next_cursor"]
    rest = (await client.get(f"{url}?cursor={first['next_cursor']}")).json()
    assert len(rest["awards"]) == 2 and rest["next_cursor"] is None
    names = [a["username"] for a in first["awards"] + rest["awards"]]
    assert len(set(names)) == 52


async def test_private_project_badges_are_hidden_from_outsiders(
        client: httpx.AsyncClient, platform: Platform, login: Login) -> None:
    project, _ = await earned(platform, default_visibility="members")
    urls = [f"/p/{project.slug}/badges", f"/p/{project.slug}/badges/nice-answer",
            f"/p/{project.slug}/u/helper/badges", f"/api/v1/projects/{project.slug}/badges",
            f"/api/v1/projects/{project.slug}/badges/nice-answer",
            f"/api/v1/projects/{project.slug}/users/helper/badges"]
    for url in urls:
        assert (await client.get(url)).status_code == 404, url
    await login(await make_user())
    for url in urls:
        assert (await client.get(url)).status_code == 404, url
    member = await make_user()
    await add_member(project, member)
    await login(member)
    for url in urls:
        assert (await client.get(url)).status_code == 200, url


async def test_awards_link_only_posts_the_viewer_may_read(
        client: httpx.AsyncClient, platform: Platform, login: Login) -> None:
    owner, helper = await make_user(), await make_user("helper")
    project = await make_project(owner=owner)
    team = await make_category(project, read_access=Access.TEAM)
    _, posts = await question(project, team, owner, answerers=[helper])
    await set_score(posts[1], 10)
    await evaluate_project(platform, project.id)
    url = f"/api/v1/projects/{project.slug}/badges/nice-answer"
    award = (await client.get(url)).json()["awards"][0]
    assert (award["username"], award["post_id"], award["url"]) == ("helper", None, None)
    page = await client.get(f"/p/{project.slug}/u/helper/badges")
    assert "#post-2" not in page.text
    moderator = await make_user()
    await add_member(project, moderator, Role.MODERATOR)
    await login(moderator)
    award = (await client.get(url)).json()["awards"][0]
    assert award["post_id"] == posts[1].id and award["url"].endswith("#post-2")
    page = await client.get(f"/p/{project.slug}/u/helper/badges")
    assert "#post-2" in page.text
    # A post hidden pending review is linked for moderators and its author only.
    await Category.filter(id=team.id).update(read_access=Access.EVERYONE)
    await Post.filter(id=posts[1].id).update(hidden_at=datetime.now(UTC))
    assert (await client.get(url)).json()["awards"][0]["post_id"] == posts[1].id
    await login(helper)
    assert (await client.get(url)).json()["awards"][0]["post_id"] == posts[1].id
    await login(await make_user())
    assert (await client.get(url)).json()["awards"][0]["post_id"] is None
    await Post.filter(id=posts[1].id).update(hidden_at=None)
    assert (await client.get(url)).json()["awards"][0]["post_id"] == posts[1].id


async def test_profile_outlet_links_to_the_badges(platform: Platform) -> None:
    person = await make_user("someone")
    project = await make_project()
    html = platform.templates.get_template("reputation/badge_profile_links.html").render(
        profile_user=person, project=project)
    assert f'href="/p/{project.slug}/u/someone/badges"' in html
    assert f'href="/p/{project.slug}/badges"' in html
    # The outlet also works with the profile page's own names for them.
    html = platform.templates.get_template("reputation/badge_profile_links.html").render(
        person=person, current_project=project)
    assert f'href="/p/{project.slug}/u/someone/badges"' in html


async def test_profile_page_links_to_the_badges(client: httpx.AsyncClient,
                                                platform: Platform) -> None:
    project, _ = await earned(platform)
    page = await client.get(f"/p/{project.slug}/u/helper")
    assert page.status_code == 200
    assert f'href="/p/{project.slug}/u/helper/badges"' in page.text
