"""Account pages: sign-up, verification, log-in/out, password reset, the account page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from forum.accounts.models import User
from forum.settings import Settings
from tests.accounts.conftest import link_in, log_in
from tests.factories import PASSWORD, make_user
from tests.support import csrf_from, post_form

NEW_PASSWORD = "a long and unusual passphrase"


async def test_sign_up_verify_log_in_and_see_account(
    client: httpx.AsyncClient, run_jobs: Any, mailbox: Any, settings: Settings
) -> None:
    page = await client.get("/signup")
    assert page.status_code == 200
    for name in ("username", "email", "password"):
        assert f'name="{name}"' in page.text
    assert 'type="submit"' in page.text

    response = await post_form(client, "/signup", {
        "username": "Ada", "email": "Ada@Example.org", "password": NEW_PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/verify-email/sent"
    assert "ada@example.org" in (await client.get("/verify-email/sent")).text
    user = await User.get(username_lower="ada")
    assert user.username == "Ada"
    assert user.email == "ada@example.org"
    assert not user.is_verified
    assert user.password_hash and user.password_hash.startswith("$argon2id$")

    await run_jobs()
    messages = mailbox()
    assert len(messages) == 1
    assert messages[0]["To"] == "ada@example.org"
    url = link_in(messages[0], "/verify-email")
    assert url.startswith(settings.public_url + "/verify-email?token=")

    verified = await client.get(url.removeprefix(settings.public_url))
    assert verified.status_code == 303
    assert verified.headers["location"] == "/login"
    await user.refresh_from_db()
    assert user.is_verified

    login_page = await client.get("/login")
    assert 'name="login"' in login_page.text and 'name="password"' in login_page.text
    logged_in = await post_form(client, "/login", {"login": "ada@example.org",
                                                   "password": NEW_PASSWORD})
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/"

    account = await client.get("/account")
    assert account.status_code == 200
    assert "Ada" in account.text and "ada@example.org" in account.text
    assert "(confirmed)" in account.text
    me = await client.get("/api/v1/users/me")
    assert me.status_code == 200
    assert me.json()["username"] == "Ada"

    token = await csrf_from(client, "/account")
    out = await client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303
    assert (await client.get("/api/v1/users/me")).status_code == 401
    assert (await client.get("/account")).headers["location"] == "/login?next=/account"


async def test_unverified_user_cannot_log_in_and_can_get_a_new_link(
    client: httpx.AsyncClient, run_jobs: Any, mailbox: Any
) -> None:
    await make_user("bob", verified=False)
    refused = await post_form(client, "/login", {"login": "bob", "password": PASSWORD})
    assert refused.status_code == 403
    assert "confirm your email address" in refused.text
    assert 'href="/verify-email/resend"' in refused.text
    assert (await client.get("/api/v1/users/me")).status_code == 401

    resend = await post_form(client, "/verify-email/resend", {"email": "BOB@example.org"})
    assert resend.status_code == 303
    unknown = await post_form(client, "/verify-email/resend", {"email": "nobody@example.org"})
    assert unknown.status_code == 303
    assert unknown.headers["location"] == resend.headers["location"]
    await run_jobs()
    assert [m["To"] for m in mailbox()] == ["bob@example.org"]


async def test_wrong_password_and_unknown_name_get_the_same_refusal(
    client: httpx.AsyncClient
) -> None:
    await make_user("carol")
    wrong = await post_form(client, "/login", {"login": "carol", "password": "not it at all"})
    unknown = await post_form(client, "/login", {"login": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match" in wrong.text and "do not match" in unknown.text
    # The name is shown again, the password never.
    assert 'value="carol"' in wrong.text
    assert "not it at all" not in wrong.text
    assert (await client.get("/api/v1/users/me")).status_code == 401


async def test_login_regenerates_session_and_follows_safe_next(
    client: httpx.AsyncClient
) -> None:
    await make_user("dave")
    before = await csrf_from(client, "/login")
    response = await client.post("/login", data={
        "login": "DAVE", "password": PASSWORD, "next": "/account", "csrf_token": before})
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    after = await csrf_from(client, "/account")
    assert after != before
    # The old token no longer works for a state-changing form.
    stale = await client.post("/logout", data={"csrf_token": before})
    assert stale.status_code == 403
    assert (await client.get("/api/v1/users/me")).status_code == 200

    await client.post("/logout", data={"csrf_token": after})
    token = await csrf_from(client, "/login")
    evil = await client.post("/login", data={
        "login": "dave", "password": PASSWORD, "next": "//evil.example/", "csrf_token": token})
    assert evil.headers["location"] == "/"


@pytest.mark.parametrize("path, data", [
    ("/login", {"login": "erin", "password": PASSWORD}),
    ("/signup", {"username": "newbie", "email": "newbie@example.org",
                 "password": NEW_PASSWORD}),
])
@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_missing_or_wrong_csrf_token_is_refused(
    client: httpx.AsyncClient, path: str, data: dict[str, str], token: str | None
) -> None:
    await make_user("erin")
    await client.get(path)  # the session exists and has a token; we do not send it
    if token is not None:
        data = {**data, "csrf_token": token}
    response = await client.post(path, data=data)
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert not await User.exists(username_lower="newbie")
    assert (await client.get("/api/v1/users/me")).status_code == 401


async def test_banned_user_cannot_log_in_and_loses_session_and_keys(
    client: httpx.AsyncClient
) -> None:
    user = await make_user("frank")
    await log_in(client, "frank")
    created = await client.post("/api/v1/users/me/api-keys", json={"name": "bot"})
    assert created.status_code == 201
    key = created.json()["key"]
    bearer = {"authorization": f"Bearer {key}"}
    assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 200

    await User.filter(id=user.id).update(is_active=False)
    assert (await client.get("/api/v1/users/me")).status_code == 401
    assert (await client.get("/account")).status_code == 303
    assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 401
    refused = await post_form(client, "/login", {"login": "frank", "password": PASSWORD})
    assert refused.status_code == 403
    assert "suspended" in refused.text


async def test_password_reset_flow_logs_out_other_sessions(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, run_jobs: Any,
    mailbox: Any, settings: Settings
) -> None:
    user = await make_user("grace")
    await log_in(other_client, "grace")
    assert (await other_client.get("/api/v1/users/me")).status_code == 200

    asked = await post_form(client, "/password/forgot", {"email": "Grace@example.org"})
    unknown = await post_form(client, "/password/forgot", {"email": "nobody@example.org"})
    assert asked.status_code == unknown.status_code == 303
    assert asked.headers["location"] == unknown.headers["location"]
    await run_jobs()
    messages = mailbox()
    assert [m["To"] for m in messages] == ["grace@example.org"]
    url = link_in(messages[0], "/password/reset")
    assert url.startswith(settings.public_url + "/password/reset?token=")
    path = url.removeprefix(settings.public_url)
    token = path.split("token=", 1)[1]

    form = await client.get(path)
    assert form.status_code == 200
    assert 'name="password"' in form.text

    weak = await post_form(client, "/password/reset", {"token": token, "password": "short"},
                           page=path)
    assert weak.status_code == 422
    assert 'class="error"' in weak.text
    await user.refresh_from_db()
    assert user.session_version == 1

    done = await post_form(client, "/password/reset", {"token": token,
                                                       "password": NEW_PASSWORD}, page=path)
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    await user.refresh_from_db()
    assert user.session_version == 2

    assert (await other_client.get("/api/v1/users/me")).status_code == 401
    old = await post_form(client, "/login", {"login": "grace", "password": PASSWORD})
    assert old.status_code == 401
    await log_in(client, "grace", NEW_PASSWORD)

    reused = await client.get(path)
    assert reused.status_code == 400
    assert "already used" in reused.text
    # Posting it again changes nothing either.
    token_now = await csrf_from(client, "/account")
    again = await client.post("/password/reset", data={
        "token": token, "password": "yet another long passphrase", "csrf_token": token_now})
    assert again.status_code == 400
    await user.refresh_from_db()
    assert user.session_version == 2


async def test_account_page_requires_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/account"


async def test_api_key_shown_once_on_the_account_page(client: httpx.AsyncClient) -> None:
    await make_user("heidi")
    await log_in(client, "heidi")
    created = await post_form(client, "/account/api-keys", {"name": "CI bot"}, page="/account")
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    secret = created.text.split('id="api-key">', 1)[1].split("<", 1)[0]
    assert secret.startswith("fk_")

    account = await client.get("/account")
    assert "CI bot" in account.text
    assert secret[:10] in account.text
    assert secret not in account.text
    me = await client.get("/api/v1/users/me", headers={"authorization": f"Bearer {secret}"})
    assert me.json()["username"] == "heidi"

    empty = await post_form(client, "/account/api-keys", {"name": "  "}, page="/account")
    assert empty.status_code == 422
    assert 'class="error"' in empty.text

    key_id = (await client.get("/api/v1/users/me/api-keys")).json()["keys"][0]["id"]
    revoked = await post_form(client, f"/account/api-keys/{key_id}/revoke", {},
                              page="/account")
    assert revoked.status_code == 303
    assert secret[:10] not in (await client.get("/account")).text
    gone = await client.get("/api/v1/users/me", headers={"authorization": f"Bearer {secret}"})
    assert gone.status_code == 401


async def test_cannot_revoke_another_users_key_from_the_page(client: httpx.AsyncClient) -> None:
    await make_user("ivan")
    await make_user("judy")
    await log_in(client, "judy")
    judy_key = (await client.post("/api/v1/users/me/api-keys", json={"name": "j"})).json()
    token = await csrf_from(client, "/account")
    await client.post("/logout", data={"csrf_token": token})
    await log_in(client, "ivan")
    response = await post_form(client, f"/account/api-keys/{judy_key['id']}/revoke", {},
                               page="/account")
    assert response.status_code == 404
    works = await client.get("/api/v1/users/me",
                             headers={"authorization": f"Bearer {judy_key['key']}"})
    assert works.json()["username"] == "judy"


async def test_github_button_hidden_and_routes_404_when_not_configured(
    client: httpx.AsyncClient
) -> None:
    assert "/auth/github/login" not in (await client.get("/login")).text
    for path in ("/auth/github/login", "/auth/github/callback?code=x&state=y"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "GitHub login is not configured" in response.text
