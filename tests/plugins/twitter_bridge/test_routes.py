"""The pages: imported mentions by network (linked from the project home), and the
bridge's settings page: leads only, secrets never shown back, failures explained."""

from __future__ import annotations

import httpx

from forum.accounts.models import User
from forum.platform import Platform
from forum.projects.models import Project, ProjectPlugin, Role, Visibility
from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
from plugins.twitter_bridge.models import SourceState
from plugins.twitter_bridge.poll import poll_source
from plugins.twitter_bridge.sources import BridgeSettings
from tests.factories import add_member, make_project, make_user
from tests.plugins.twitter_bridge.conftest import network_settings
from tests.plugins.twitter_bridge.fakes import (
    MASTODON_TOKEN,
    FakeMastodon,
    FakeX,
    account,
    notification,
    tweet,
)
from tests.support import Login, post_form

NAME = "twitter_bridge"


async def bridged(platform: Platform, **values: object) -> tuple[Project, User]:
    owner = await make_user("owner")
    project = await make_project("bridged", owner=owner, name="Bridged")
    await do_toggle_plugin(platform, project, NAME, True)
    await do_save_plugin_settings(platform, project, NAME,
                                  BridgeSettings.model_validate(values))
    return project, owner


async def test_mentions_page_lists_by_network_and_home_links_it(
        client: httpx.AsyncClient, platform: Platform, fake_x: FakeX,
        fake_mastodon: FakeMastodon) -> None:
    project, _ = await bridged(platform, **network_settings(fake_x=fake_x,
                                                            fake_mastodon=fake_mastodon))
    fake_x.add_user("11", "ada", "Ada")
    fake_x.tweets = [tweet(101, "loving <b>it</b> @forumproject", "11")]
    fake_mastodon.notifications = [notification(1, 500, account("7", "bo@social.example"),
                                                "<p>hello from the fediverse</p>")]
    await poll_source(platform, project.id, "x")
    await poll_source(platform, project.id, "mastodon")
    page = await client.get("/p/bridged/mentions")
    assert page.status_code == 200
    x_part = page.text.split('id="source-x"', 1)[1].split("</section>", 1)[0]
    assert "loving &lt;b&gt;it&lt;/b&gt; @forumproject" in x_part
    assert 'href="https://x.com/ada/status/101"' in x_part
    mastodon_part = page.text.split('id="source-mastodon"', 1)[1].split("</section>", 1)[0]
    assert "hello from the fediverse" in mastodon_part and "@bo@social.example" in mastodon_part
    assert "No mentions from Bluesky yet." in page.text
    assert "Mentions settings" not in page.text  # anonymous: no settings link
    home = await client.get("/p/bridged")
    assert 'href="/p/bridged/mentions"' in home.text


async def test_mentions_page_is_404_where_the_bridge_is_off(
        client: httpx.AsyncClient, platform: Platform) -> None:
    owner = await make_user("owner")
    await make_project("plain", owner=owner)
    assert (await client.get("/p/plain/mentions")).status_code == 404
    home = await client.get("/p/plain")
    assert home.status_code == 200 and "/p/plain/mentions" not in home.text


async def test_settings_page_leads_only_and_other_projects_404(
        client: httpx.AsyncClient, platform: Platform, login: Login) -> None:
    project, owner = await bridged(platform)
    member = await make_user("member")
    await add_member(project, member, Role.MEMBER)
    await login(member)
    assert (await client.get("/p/bridged/mentions/settings")).status_code == 403
    refused = await client.post("/p/bridged/mentions/settings",
                                data={"mastodon_access_token": "stolen"},
                                headers={"accept": "application/json"})
    assert refused.status_code in (403, 400)  # no CSRF token, and no right either
    await login(owner)
    response = await post_form(client, "/p/bridged/mentions/settings",
                               {"mastodon_access_token": "x"}, page="/p/bridged")
    assert response.status_code == 303
    await login(member)
    response = await post_form(client, "/p/bridged/mentions/settings",
                               {"mastodon_access_token": "stolen"}, page="/p/bridged")
    assert response.status_code == 403
    row = await ProjectPlugin.get(project_id=project.id, name=NAME)
    assert row.settings["mastodon_access_token"] == "x"

    other_owner = await make_user("elsewhere")
    await make_project("secretproj", owner=other_owner,
                       default_visibility=Visibility.MEMBERS)
    await do_toggle_plugin(platform, await _project("secretproj"), NAME, True)
    await login(owner)  # a lead of another project
    assert (await client.get("/p/secretproj/mentions/settings")).status_code == 404
    await login(None)
    assert (await client.get("/p/bridged/mentions/settings")).status_code in (302, 303, 401)


async def _project(slug: str) -> Project:
    return await Project.get(slug=slug)


async def test_settings_page_explains_hides_secrets_and_keeps_them(
        client: httpx.AsyncClient, platform: Platform, login: Login,
        fake_mastodon: FakeMastodon) -> None:
    project, owner = await bridged(platform, **network_settings(
        fake_mastodon=fake_mastodon, mastodon_access_token="expired-token-value"))
    await poll_source(platform, project.id, "mastodon")
    await login(owner)
    page = await client.get("/p/bridged/mentions/settings")
    assert page.status_code == 200
    for block in ("network-x", "network-mastodon", "network-bluesky"):
        assert f'id="{block}"' in page.text
    assert "read:notifications and write:statuses" in page.text
    assert "App passwords" in page.text and "Bearer Token" in page.text
    assert "expired-token-value" not in page.text
    assert 'type="password" name="mastodon_access_token" value=""' in page.text
    assert "A value is stored; leave empty to keep it." in page.text
    mastodon_block = page.text.split('id="network-mastodon"', 1)[1].split("</section>", 1)[0]
    assert "Failing: Mastodon refused the credentials (401)" in mastodon_block

    # Saving with the secret left empty keeps it; a new one replaces it.
    form = {"mastodon_instance_url": fake_mastodon.url, "mastodon_access_token": "",
            "reply_template": "See {url}", "x_monthly_cap_cents": "500",
            "mastodon_replies": "on"}
    assert (await post_form(client, "/p/bridged/mentions/settings", form)).status_code == 303
    row = await ProjectPlugin.get(project_id=project.id, name=NAME)
    assert row.settings["mastodon_access_token"] == "expired-token-value"
    assert row.settings["mastodon_replies"] is True
    assert row.settings["x_monthly_cap_cents"] == 500
    form["mastodon_access_token"] = MASTODON_TOKEN
    assert (await post_form(client, "/p/bridged/mentions/settings", form)).status_code == 303
    await poll_source(platform, project.id, "mastodon")
    state = await SourceState.get(source="mastodon")
    assert not state.failing

    # The core's settings page does not show it either, and keeps it when saved.
    core = await client.get("/p/bridged/settings")
    assert MASTODON_TOKEN not in core.text
    saved = await post_form(client, "/p/bridged/settings/plugins/twitter_bridge",
                            {"mastodon_instance_url": fake_mastodon.url},
                            page="/p/bridged/settings")
    assert saved.status_code == 303
    row = await ProjectPlugin.get(project_id=project.id, name=NAME)
    assert row.settings["mastodon_access_token"] == MASTODON_TOKEN


async def test_bad_settings_are_refused(client: httpx.AsyncClient, platform: Platform,
                                        login: Login) -> None:
    _, owner = await bridged(platform)
    await login(owner)
    response = await post_form(client, "/p/bridged/mentions/settings",
                               {"mastodon_instance_url": "javascript:alert(1)",
                                "x_monthly_cap_cents": "-5"}, page="/p/bridged/mentions/settings")
    assert response.status_code == 422
