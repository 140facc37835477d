"""Sign in with GitHub against a local fake of GitHub, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from forum.accounts.models import OAuthIdentity, User
from tests.accounts.conftest import log_in
from tests.accounts.github_fake import (
    API_PREFIX,
    CLIENT_ID,
    CLIENT_SECRET,
    FakeGitHub,
    ServedFake,
    github_email,
    github_user,
)
from tests.factories import make_user
from tests.support import csrf_from

OCTOCAT = github_user(583231, "octocat", name="The Octocat", email="octocat@github.com")


@pytest.fixture(scope="module")
def served_github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    with ServedFake(fake):
        yield fake


@pytest.fixture
def github(served_github: FakeGitHub) -> Iterator[FakeGitHub]:
    served_github.reset()
    yield served_github
    served_github.reset()


@pytest.fixture
def settings_overrides(served_github: FakeGitHub) -> dict[str, Any]:
    return {"github_client_id": CLIENT_ID, "github_client_secret": CLIENT_SECRET,
            "github_oauth_url": served_github.url,
            "github_api_url": served_github.url + API_PREFIX}


async def round_trip(client: httpx.AsyncClient, github: FakeGitHub,
                     tamper: dict[str, str] | None = None) -> httpx.Response:
    """Click "Sign in with GitHub", let the fake approve, follow it back to our callback."""
    start = await client.get("/auth/github/login")
    assert start.status_code == 302
    authorize = start.headers["location"]
    assert authorize.startswith(github.url + "/login/oauth/authorize?")
    assert f"client_id={CLIENT_ID}" in authorize
    async with httpx.AsyncClient() as browser:
        approved = await browser.get(authorize)
    assert approved.status_code == 302
    callback = httpx.URL(approved.headers["location"])
    assert str(callback).startswith("http://testserver/auth/github/callback?")
    params = dict(callback.params)
    params.update(tamper or {})
    return await client.get("/auth/github/callback", params=params)


async def me(client: httpx.AsyncClient) -> dict[str, Any] | None:
    response = await client.get("/api/v1/users/me")
    return response.json() if response.status_code == 200 else None


async def test_new_github_user_gets_a_verified_account(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    assert 'href="/auth/github/login"' in (await client.get("/login")).text
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com"),
                                github_email("octo@example.org", primary=False)])
    response = await round_trip(client, github)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"

    user = await User.get(username="octocat")
    assert user.email == "octocat@github.com"
    assert user.is_verified
    assert user.password_hash is None
    identity = await OAuthIdentity.get(user_id=user.id)
    assert (identity.provider, identity.provider_user_id) == ("github", "583231")
    assert identity.login == "octocat"
    assert identity.profile["name"] == "The Octocat"
    assert (await me(client) or {}).get("username") == "octocat"
    # The token request carried the code the fake issued, and our credentials.
    assert len(github.token_requests) == 1

    # Next time the known identity just logs in, creating nothing.
    await client.post("/api/v1/auth/logout", json={})
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com")])
    again = await round_trip(client, github)
    assert again.status_code == 303
    assert (await me(client) or {}).get("username") == "octocat"
    assert await User.all().count() == 1
    assert await OAuthIdentity.all().count() == 1


async def test_logged_in_user_links_github(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    ada = await make_user("ada", email="ada@example.org")
    await log_in(client, "ada")
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com")])
    response = await round_trip(client, github)
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    identity = await OAuthIdentity.get(provider_user_id="583231")
    assert identity.user_id == ada.id  # type: ignore[attr-defined]
    assert await User.all().count() == 1
    assert "octocat" in (await client.get("/account")).text

    # Logged out, GitHub now logs in as ada.
    await client.post("/api/v1/auth/logout", json={})
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com")])
    await round_trip(client, github)
    assert (await me(client) or {}).get("username") == "ada"


async def test_verified_local_account_with_the_same_verified_email_is_linked(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    local = await make_user("octo-local", email="octocat@github.com", verified=True)
    github.sign_in_as(OCTOCAT, [github_email("OctoCat@GitHub.com")])
    response = await round_trip(client, github)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert (await me(client) or {}).get("username") == "octo-local"
    identity = await OAuthIdentity.get(provider_user_id="583231")
    assert identity.user_id == local.id  # type: ignore[attr-defined]
    assert await User.all().count() == 1


@pytest.mark.parametrize("local_verified, github_verified", [(False, True), (True, False)])
async def test_same_email_without_both_sides_verified_is_not_linked(
    client: httpx.AsyncClient, github: FakeGitHub, local_verified: bool, github_verified: bool
) -> None:
    await make_user("octo-local", email="octocat@github.com", verified=local_verified)
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com", verified=github_verified)])
    response = await round_trip(client, github)
    assert response.status_code == 409
    assert "already exists" in response.text
    assert await OAuthIdentity.all().count() == 0
    assert await User.all().count() == 1
    assert await me(client) is None


async def test_username_is_made_unique(client: httpx.AsyncClient, github: FakeGitHub) -> None:
    await make_user("OctoCat", email="someone@example.org")
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com")])
    response = await round_trip(client, github)
    assert response.status_code == 303
    created = await User.get(email="octocat@github.com")
    assert created.username == "octocat-2"


async def test_short_github_login_is_padded(client: httpx.AsyncClient, github: FakeGitHub) -> None:
    github.sign_in_as(github_user(7, "x"), [github_email("x@example.org")])
    assert (await round_trip(client, github)).status_code == 303
    assert await User.exists(username="x-gh")


async def test_unverified_github_email_needs_confirmation(
    client: httpx.AsyncClient, github: FakeGitHub, run_jobs: Any, mailbox: Any
) -> None:
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com", verified=False)])
    response = await round_trip(client, github)
    assert response.status_code == 303
    assert response.headers["location"] == "/verify-email/sent"
    user = await User.get(username="octocat")
    assert not user.is_verified
    assert await me(client) is None
    await run_jobs()
    assert [m["To"] for m in mailbox()] == ["octocat@github.com"]


async def test_github_account_linked_to_someone_else(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    owner = await make_user("owner")
    await OAuthIdentity.create(user=owner, provider="github", provider_user_id="583231",
                               login="octocat")
    await make_user("intruder")
    await log_in(client, "intruder")
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com")])
    response = await round_trip(client, github)
    assert response.status_code == 409
    assert (await me(client) or {}).get("username") == "intruder"
    identity = await OAuthIdentity.get(provider_user_id="583231")
    assert identity.user_id == owner.id  # type: ignore[attr-defined]


async def test_suspended_user_cannot_sign_in_with_github(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    banned = await make_user("banned", is_active=False)
    await OAuthIdentity.create(user=banned, provider="github", provider_user_id="583231",
                               login="octocat")
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com")])
    response = await round_trip(client, github)
    assert response.status_code == 403
    assert await me(client) is None


async def test_state_mismatch_is_refused(client: httpx.AsyncClient, github: FakeGitHub) -> None:
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com")])
    response = await round_trip(client, github, tamper={"state": "forged-state"})
    assert response.status_code == 400
    assert "did not complete" in response.text
    assert github.token_requests == []  # the code was never exchanged
    assert await User.all().count() == 0
    assert await me(client) is None


async def test_callback_without_a_flow_or_with_errors_is_4xx(
    client: httpx.AsyncClient, github: FakeGitHub
) -> None:
    for query in ("", "?code=abc&state=xyz",
                  "?error=access_denied&error_description=The+user+has+denied+your+"
                  "application+access.&state=xyz"):
        response = await client.get(f"/auth/github/callback{query}")
        assert response.status_code == 400, query
    assert await User.all().count() == 0


async def test_bad_code_is_refused(client: httpx.AsyncClient, github: FakeGitHub) -> None:
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com")])
    response = await round_trip(client, github, tamper={"code": "not-a-code"})
    assert response.status_code == 400
    assert "incorrect or expired" in response.text
    assert await User.all().count() == 0


async def test_unlink_needs_a_password(client: httpx.AsyncClient, github: FakeGitHub) -> None:
    github.sign_in_as(OCTOCAT, [github_email("octocat@github.com")])
    await round_trip(client, github)
    token = await csrf_from(client, "/account")
    refused = await client.post("/account/github/unlink", data={"csrf_token": token})
    assert refused.status_code == 400
    assert await OAuthIdentity.all().count() == 1

    await make_user("pw-user")
    await client.post("/api/v1/auth/logout", json={})
    await log_in(client, "pw-user")
    github.sign_in_as(github_user(99, "other"), [github_email("other@example.org")])
    await round_trip(client, github)
    assert await OAuthIdentity.filter(login="other").exists()
    token = await csrf_from(client, "/account")
    unlinked = await client.post("/account/github/unlink", data={"csrf_token": token})
    assert unlinked.status_code == 303
    assert not await OAuthIdentity.filter(login="other").exists()
