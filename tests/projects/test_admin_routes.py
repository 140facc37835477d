from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from forum.platform import Platform
from forum.projects.models import PlatformSetting, Visibility
from forum.projects.service import platform_fee_percent
from tests.factories import make_project, make_user
from tests.support import Login, post_form


async def test_admin_page_shows_fee_projects_and_users(
        client: httpx.AsyncClient, login: Login) -> None:
    ada = await make_user("ada")
    await make_project("open", name="Open Thing", owner=ada)
    await make_project("closed", name="Closed Thing", default_visibility=Visibility.MEMBERS)
    await login(await make_user("root", admin=True))
    page = await client.get("/admin")
    assert page.status_code == 200
    assert 'name="platform_fee_percent" value="5.00"' in page.text
    assert "Open Thing" in page.text and "Closed Thing" in page.text
    assert "2 users on the platform" in page.text
    assert 'href="/admin/jobs"' in page.text


async def test_non_admins_get_403(client: httpx.AsyncClient, login: Login) -> None:
    owner = await make_user("owner")
    await make_project("acme", owner=owner)
    await login(owner)
    assert (await client.get("/admin", headers={"accept": "text/html"})).status_code == 403
    response = await post_form(client, "/admin/settings", {"platform_fee_percent": "0"},
                               page="/p/acme/settings")
    assert response.status_code == 403
    assert not await PlatformSetting.exists()
    await login(None)
    response = await client.get("/admin")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_admin_sets_the_fee(client: httpx.AsyncClient, login: Login,
                                  platform: Platform) -> None:
    await login(await make_user("root", admin=True))
    assert await platform_fee_percent(platform) == Decimal("5.00")
    response = await post_form(client, "/admin/settings", {"platform_fee_percent": "7.5"},
                               page="/admin")
    assert response.status_code == 303
    assert await platform_fee_percent(platform) == Decimal("7.50")
    assert 'value="7.50"' in (await client.get("/admin")).text
    response = await post_form(client, "/admin/settings", {"platform_fee_percent": "0"},
                               page="/admin")
    assert response.status_code == 303
    assert await platform_fee_percent(platform) == Decimal("0.00")
    assert await PlatformSetting.all().count() == 1


@pytest.mark.parametrize("bad", ["-1", "100.01", "abc", "", "NaN", "Infinity", "2.555"])
async def test_bad_fee_is_422_and_kept(client: httpx.AsyncClient, login: Login,
                                       platform: Platform, bad: str) -> None:
    await login(await make_user("root", admin=True))
    response = await post_form(client, "/admin/settings", {"platform_fee_percent": bad},
                               page="/admin")
    assert response.status_code == 422
    assert 'class="error"' in response.text
    assert await platform_fee_percent(platform) == Decimal("5.00")
    assert not await PlatformSetting.exists()


@pytest.mark.parametrize("settings_overrides", [{"platform_fee_percent": 3.25}])
async def test_fee_defaults_to_the_setting(client: httpx.AsyncClient, platform: Platform
                                           ) -> None:
    assert await platform_fee_percent(platform) == Decimal("3.25")
