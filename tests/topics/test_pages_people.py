"""Profiles and the user directory: counts over what the viewer reads, tabs, sorting."""

from __future__ import annotations

import re

import httpx

from forum.topics.models import Access, Post
from tests.factories import add_member, make_project, make_user
from tests.support import Login
from tests.topics.read_data import accept, make_category, make_topic, posts_of


def stat(html: str, name: str) -> str:
    match = re.search(rf'class="stat-{name}">([^<]+)<', html)
    assert match, name
    return match.group(1)


async def test_profile_counts_and_tabs(client: httpx.AsyncClient, db: None,
                                       login: Login) -> None:
    owner = await make_user()
    helper = await make_user("Helper")
    project = await make_project(owner=owner)
    public = await make_category(project, "public")
    team = await make_category(project, "team", read_access=Access.TEAM)
    solved = await make_topic(project, public, owner, title="Solved by helper", replies=1,
                              repliers=[helper])
    await make_topic(project, public, owner, title="Answered by helper", replies=1,
                     repliers=[helper])
    await make_topic(project, team, owner, title="Team thread here", replies=1,
                     repliers=[helper])
    await make_topic(project, public, helper, title="Helper asks something")
    answer = (await posts_of(solved))[1]
    await Post.filter(id=answer.id).update(upvotes=2, score=2)
    await accept(solved, answer)
    url = f"/p/{project.slug}/u/Helper"
    html = (await client.get(url)).text
    assert (stat(html, "topics"), stat(html, "answers"), stat(html, "accepted")) == (
        "1", "2", "1")
    assert stat(html, "votes").startswith("+2")
    assert "Helper asks something" in html
    answers = (await client.get(f"{url}?tab=answers")).text
    assert "Solved by helper" in answers and "Answered by helper" in answers
    assert "Team thread here" not in answers
    accepted = (await client.get(f"{url}?tab=accepted")).text
    assert "Solved by helper" in accepted and "Answered by helper" not in accepted
    await login(owner)
    assert "Team thread here" in (await client.get(f"{url}?tab=answers")).text
    assert (await client.get(f"/p/{project.slug}/u/helper")).status_code == 301
    assert (await client.get(f"/p/{project.slug}/u/nobody")).status_code == 404
    assert (await client.get(f"{url}?tab=nope")).status_code == 422


async def test_directory_sorts_and_pages(client: httpx.AsyncClient, db: None) -> None:
    owner = await make_user("zowner")
    project = await make_project(owner=owner)
    category = await make_category(project)
    busy = await make_user("busy")
    quiet = await make_user("quiet")
    await add_member(project, quiet)
    topic = await make_topic(project, category, owner, replies=3, repliers=[busy])
    other = await make_topic(project, category, owner, replies=1, repliers=[quiet])
    await accept(other, (await posts_of(other))[1])
    assert topic.id

    def names(html: str) -> list[str]:
        return re.findall(r'<tr data-username="([^"]+)">', html)

    url = f"/p/{project.slug}/users"
    assert names((await client.get(url)).text) == ["busy", "quiet", "zowner"]
    assert names((await client.get(f"{url}?order=accepted")).text)[0] == "quiet"
    joined = names((await client.get(f"{url}?order=joined")).text)
    assert set(joined) == {"busy", "quiet", "zowner"}
    assert (await client.get(f"{url}?order=nope")).status_code == 422


async def test_directory_keyset_pages(db: None) -> None:
    from forum.topics.permissions import Viewer, read_scope
    from forum.topics.queries import DirectoryOrder, user_directory

    owner = await make_user()
    project = await make_project(owner=owner)
    for _ in range(7):
        await add_member(project, await make_user())
    scope = await read_scope(Viewer(None, None, False), project.id)
    for order in DirectoryOrder:
        seen: list[int] = []
        cursor = None
        while True:
            page = await user_directory(scope, order, cursor, limit=3)
            seen += [r.user.id for r in page.rows]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == 8 == len(set(seen)), order
