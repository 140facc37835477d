"""The forum's pages lead to what reputation and moderation add: a profile shows the
person's reputation and badge counts and the plugins' profile links; the project home links
the community pages for everyone and the moderation pages for moderators only."""

from __future__ import annotations

import httpx

from forum.gates import Act, Attempt
from forum.hookspecs import hookimpl
from forum.platform import Platform
from forum.projects.models import Role
from tests.factories import add_member, make_project, make_user
from tests.support import Login


async def test_profile_shows_reputation_and_profile_links(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner, person, visitor = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=owner)
    await add_member(project, person, Role.MEMBER)
    await login(visitor)
    html = (await client.get(f"/p/{project.slug}/u/{person.username}")).text
    assert '<dd class="stat-reputation">1</dd>' in html  # the floor of a new user
    assert f"/p/{project.slug}/u/{person.username}/reputation" in html
    assert f"/p/{project.slug}/u/{person.username}/badges" in html
    assert f"/p/{project.slug}/u/{person.username}/flag" in html
    assert f"/p/{project.slug}/u/{person.username}/penalties" not in html  # moderators only
    await login(owner)
    html = (await client.get(f"/p/{project.slug}/u/{person.username}")).text
    assert f"/p/{project.slug}/u/{person.username}/penalties" in html


async def test_project_home_links_moderation_for_moderators_only(
        client: httpx.AsyncClient, db: None, login: Login) -> None:
    owner, moderator, member = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=owner)
    await add_member(project, moderator, Role.MODERATOR)
    await add_member(project, member, Role.MEMBER)
    for who, sees in ((moderator, True), (member, False), (None, False)):
        await login(who)
        html = (await client.get(f"/p/{project.slug}")).text
        assert f'href="/p/{project.slug}/leaderboard"' in html
        assert f'href="/p/{project.slug}/badges"' in html
        assert (f'href="/p/{project.slug}/review"' in html) is sees, who
        assert (f'href="/p/{project.slug}/audit"' in html) is sees, who
        assert (f'href="/p/{project.slug}/inbox"' in html) is sees, who  # the team's


class RefuseFor:
    """Refuses closing and reopening to one user (as reputation does below the threshold)."""

    PLUGIN_NAME = "refuse-close"

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id

    @hookimpl
    def forum_refuse(self, attempt: Attempt) -> str | None:
        if attempt.act == Act.CLOSE_REOPEN and attempt.user_id == self.user_id:
            return "Closing needs more reputation."
        return None


async def test_close_reopen_control_follows_the_privilege(
        client: httpx.AsyncClient, db: None, login: Login, platform: Platform) -> None:
    from tests.topics.read_data import make_category, make_topic

    owner, trusted, newcomer = await make_user(), await make_user(), await make_user()
    project = await make_project(owner=owner)
    category = await make_category(project)
    topic = await make_topic(project, category, owner)
    refuser = RefuseFor(newcomer.id)
    platform.plugins.pm.register(refuser, name=refuser.PLUGIN_NAME)
    try:
        control = f"/p/{project.slug}/t/{topic.id}/state-control"
        await login(newcomer)
        page = (await client.get(f"/p/{project.slug}/t/{topic.id}-{topic.slug}")).text
        assert f'hx-get="{control}"' in page
        assert (await client.get(control)).text == ""
        await login(trusted)
        html = (await client.get(control)).text
        assert 'name="state" value="closed"' in html
        await login(None)
        assert (await client.get(control)).text == ""
    finally:
        platform.plugins.pm.unregister(refuser)
