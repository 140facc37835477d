"""The X account connected through OAuth 2.0 PKCE: the connect flow (state bound to the
lead, the project and one use), the token exchange, refreshing before a reply or after a
401 with rotating refresh tokens, invalid_grant, disconnecting, and who may do it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest

from forum.accounts.models import User
from forum.platform import Platform
from forum.projects.models import Project, Role, Visibility
from forum.projects.plugin_settings import do_save_plugin_settings, do_toggle_plugin
from plugins.twitter_bridge.models import ImportedMention, SourceState, XConnection
from plugins.twitter_bridge.poll import poll_source
from plugins.twitter_bridge.replies import reply_to_mention
from plugins.twitter_bridge.sources import BridgeSettings, Transient
from plugins.twitter_bridge.x_oauth import PURPOSE, Tokens, XTokens, do_connect, redirect_uri
from tests.factories import add_member, make_project, make_user
from tests.plugins.twitter_bridge.conftest import network_settings
from tests.plugins.twitter_bridge.fakes import X_CLIENT_ID, FakeX, tweet
from tests.support import Login, post_form

NAME = "twitter_bridge"
AUTHORIZE = "https://x.example/i/oauth2/authorize"
SETTINGS = "/p/bridged/mentions/settings"


async def bridged(platform: Platform, fake_x: FakeX, **extra: Any) -> tuple[Project, User]:
    owner = await make_user("owner")
    project = await make_project("bridged", owner=owner, name="Bridged")
    await do_toggle_plugin(platform, project, NAME, True)
    values = network_settings(fake_x=fake_x, x_reply_token=None, x_client_id=X_CLIENT_ID,
                              x_authorize_url=AUTHORIZE, x_replies=True,
                              x_monthly_cap_cents=100, **extra)
    await do_save_plugin_settings(platform, project, NAME, BridgeSettings.model_validate(values))
    return project, owner


async def start(client: httpx.AsyncClient) -> dict[str, str]:
    response = await post_form(client, "/p/bridged/mentions/x/connect", {}, page=SETTINGS)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(AUTHORIZE + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def callback(client: httpx.AsyncClient, **query: str) -> str:
    """X sending the browser back; returns the settings page it redirects to."""
    response = await client.get("/p/bridged/mentions/x/callback", params=query)
    assert response.status_code == 303
    assert response.headers["location"] == SETTINGS + "#network-x"
    return (await client.get(SETTINGS)).text


@pytest.mark.parametrize("secret", ["", "s3cret"])
async def test_connect_exchanges_the_code_and_stores_sealed_tokens(
        client: httpx.AsyncClient, platform: Platform, login: Login, fake_x: FakeX,
        secret: str) -> None:
    fake_x.client_secret = secret
    project, owner = await bridged(platform, fake_x, x_client_secret=secret or None)
    await login(owner)
    page = (await client.get(SETTINGS)).text
    assert redirect_uri(platform, "bridged") in page and "offline.access" in page
    assert "Not connected" in page

    query = await start(client)
    uri = redirect_uri(platform, "bridged")
    assert uri.endswith("/p/bridged/mentions/x/callback")
    assert query["response_type"] == "code" and query["client_id"] == X_CLIENT_ID
    assert query["redirect_uri"] == uri
    assert query["scope"] == "tweet.read tweet.write users.read offline.access"
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 20
    code = fake_x.approve(query["code_challenge"], uri)

    page = await callback(client, state=query["state"], code=code)
    assert "Connected as @forumproject" in page
    [token_call] = fake_x.of("/2/oauth2/token", "POST")
    form = dict(parse_qsl(token_call.body))
    assert form["grant_type"] == "authorization_code" and form["code"] == code
    assert form["redirect_uri"] == uri and form["client_id"] == X_CLIENT_ID
    assert len(form["code_verifier"]) >= 43
    assert ("authorization" in token_call.headers) == bool(secret)
    [me] = fake_x.of("/2/users/me")
    assert me.headers["authorization"] == "Bearer x-access-1"

    row = await XConnection.get(project_id=project.id)
    assert row.handle == "forumproject"
    assert "x-access-1" not in row.access_token_sealed
    assert platform.unseal(PURPOSE, row.access_token_sealed) == "x-access-1"
    assert platform.unseal(PURPOSE, row.refresh_token_sealed) == "x-refresh-1"
    assert row.expires_at is not None
    assert timedelta(minutes=119) < row.expires_at - datetime.now(UTC) <= timedelta(hours=2)

    # The state was used up: the same callback again is refused.
    page = await callback(client, state=query["state"], code=code)
    assert "was not completed" in page
    assert len(fake_x.of("/2/oauth2/token", "POST")) == 1


async def test_wrong_reused_or_other_users_state_is_refused(
        client: httpx.AsyncClient, platform: Platform, login: Login, fake_x: FakeX) -> None:
    project, owner = await bridged(platform, fake_x)
    await login(owner)
    query = await start(client)
    code = fake_x.approve(query["code_challenge"], redirect_uri(platform, "bridged"))
    assert "was not completed" in await callback(client, state="forged", code=code)
    # One use: the wrong attempt spent it, so the right state does not work either.
    assert "was not completed" in await callback(client, state=query["state"], code=code)

    query = await start(client)
    other_lead = await make_user("otherlead")
    await add_member(project, other_lead, Role.LEAD)
    await login(other_lead)
    assert "was not completed" in await callback(client, state=query["state"], code=code)
    assert fake_x.of("/2/oauth2/token", "POST") == []
    assert await XConnection.filter(project_id=project.id).count() == 0


async def test_denied_consent_and_refused_code_flash_without_connecting(
        client: httpx.AsyncClient, platform: Platform, login: Login, fake_x: FakeX) -> None:
    project, owner = await bridged(platform, fake_x)
    await login(owner)
    query = await start(client)
    page = await callback(client, state=query["state"], error="access_denied")
    assert "You did not authorize the app on X." in page

    query = await start(client)
    page = await callback(client, state=query["state"], code="not-issued")
    assert "X refused the authorization code (invalid_grant)" in page
    query = await start(client)
    fake_x.fail_next(400, {"error": "invalid_request"})
    code = fake_x.approve(query["code_challenge"], redirect_uri(platform, "bridged"))
    page = await callback(client, state=query["state"], code=code)
    assert "X refused the authorization code (invalid_request)" in page
    assert await XConnection.filter(project_id=project.id).count() == 0


async def connected(platform: Platform, fake_x: FakeX, project: Project, *,
                    expires_in: timedelta) -> None:
    issued = fake_x._issue()
    await do_connect(platform, project.id, "forumproject",
                     Tokens(issued["access_token"], issued["refresh_token"],
                            datetime.now(UTC) + expires_in))


async def imported(platform: Platform, fake_x: FakeX, project: Project) -> int:
    fake_x.add_user("11", "ada", "Ada")
    fake_x.tweets = [tweet(101, "hi @forumproject", "11")]
    await poll_source(platform, project.id, "x")
    return (await ImportedMention.get(external_id="101")).id


async def stored(platform: Platform, project: Project) -> tuple[str, str]:
    row = await XConnection.get(project_id=project.id)
    return (platform.unseal(PURPOSE, row.access_token_sealed),
            platform.unseal(PURPOSE, row.refresh_token_sealed))


async def test_expired_access_token_is_refreshed_before_the_reply(
        db: None, platform: Platform, fake_x: FakeX) -> None:
    project, _ = await bridged(platform, fake_x)
    await connected(platform, fake_x, project, expires_in=timedelta(seconds=30))
    mention = await imported(platform, fake_x, project)
    assert await reply_to_mention(platform, mention) == "sent"
    [refresh] = fake_x.of("/2/oauth2/token", "POST")
    assert dict(parse_qsl(refresh.body)) == {"grant_type": "refresh_token",
                                             "refresh_token": "x-refresh-1",
                                             "client_id": X_CLIENT_ID}
    [post] = fake_x.of("/2/tweets", "POST")
    assert post.headers["authorization"] == "Bearer x-access-2"
    assert await stored(platform, project) == ("x-access-2", "x-refresh-2")
    assert "x-refresh-1" not in fake_x.refresh_tokens  # rotated away at X


async def test_401_on_reply_refreshes_once_and_retries(
        db: None, platform: Platform, fake_x: FakeX) -> None:
    project, _ = await bridged(platform, fake_x)
    await connected(platform, fake_x, project, expires_in=timedelta(hours=2))
    mention = await imported(platform, fake_x, project)
    fake_x.reject_posts = 1
    assert await reply_to_mention(platform, mention) == "sent"
    posts = fake_x.of("/2/tweets", "POST")
    assert [p.headers["authorization"] for p in posts] == ["Bearer x-access-1",
                                                           "Bearer x-access-2"]
    assert len(fake_x.of("/2/oauth2/token", "POST")) == 1
    assert await stored(platform, project) == ("x-access-2", "x-refresh-2")
    assert len(fake_x.posted) == 1


async def test_a_second_401_after_the_refresh_fails_without_another_refresh(
        db: None, platform: Platform, fake_x: FakeX) -> None:
    project, _ = await bridged(platform, fake_x)
    await connected(platform, fake_x, project, expires_in=timedelta(hours=2))
    mention = await imported(platform, fake_x, project)
    fake_x.reject_posts = 2
    assert await reply_to_mention(platform, mention) == "failed"
    assert len(fake_x.of("/2/tweets", "POST")) == 2
    assert len(fake_x.of("/2/oauth2/token", "POST")) == 1
    state = await SourceState.get(project_id=project.id, source="x")
    assert state.failing and "X refused the credentials (401)" in state.failure


async def test_invalid_grant_marks_the_x_source_failing(
        db: None, platform: Platform, fake_x: FakeX) -> None:
    project, _ = await bridged(platform, fake_x)
    await connected(platform, fake_x, project, expires_in=timedelta(seconds=-5))
    fake_x.refresh_tokens.clear()  # revoked at X
    mention = await imported(platform, fake_x, project)
    assert await reply_to_mention(platform, mention) == "failed"
    assert fake_x.of("/2/tweets", "POST") == []
    state = await SourceState.get(project_id=project.id, source="x")
    assert state.failing
    assert "X refused the refresh token (invalid_grant)" in state.failure
    assert "reconnect the X account" in state.failure
    row = await ImportedMention.get(id=mention)
    assert "reconnect the X account" in row.reply_error
    assert state.spend_cents == 0  # refunded


async def test_a_worker_that_lost_the_refresh_race_uses_the_winners_tokens(
        db: None, platform: Platform, fake_x: FakeX) -> None:
    project, _ = await bridged(platform, fake_x)
    await connected(platform, fake_x, project, expires_in=timedelta(seconds=10))
    settings = BridgeSettings.model_validate(network_settings(fake_x=fake_x,
                                                              x_client_id=X_CLIENT_ID))
    first, second = (XTokens(platform, project.id, settings) for _ in range(2))
    seen_by_second = await XConnection.get(project_id=project.id)
    assert await first.access_token() == "x-access-2"
    # The second worker read the row before the first stored; X refuses its old token.
    assert await second._refresh(seen_by_second) == "x-access-2"
    assert await stored(platform, project) == ("x-access-2", "x-refresh-2")
    assert "x-refresh-2" in fake_x.refresh_tokens
    # A stale 401 for the old token takes the stored new one without asking X.
    assert await second.refresh("x-access-1") == "x-access-2"
    assert len(fake_x.of("/2/oauth2/token", "POST")) == 2


async def test_disconnect_forgets_the_tokens(
        client: httpx.AsyncClient, platform: Platform, login: Login, fake_x: FakeX) -> None:
    project, owner = await bridged(platform, fake_x)
    await connected(platform, fake_x, project, expires_in=timedelta(hours=2))
    await login(owner)
    assert "Connected as @forumproject" in (await client.get(SETTINGS)).text
    response = await post_form(client, "/p/bridged/mentions/x/disconnect", {}, page=SETTINGS)
    assert response.status_code == 303
    page = (await client.get(SETTINGS)).text
    assert "The X account is disconnected" in page and "Not connected" in page
    assert await XConnection.filter(project_id=project.id).count() == 0


async def test_only_leads_connect_or_disconnect(
        client: httpx.AsyncClient, platform: Platform, login: Login, fake_x: FakeX) -> None:
    project, owner = await bridged(platform, fake_x)
    await connected(platform, fake_x, project, expires_in=timedelta(hours=2))
    member = await make_user("member")
    await add_member(project, member, Role.MEMBER)
    await login(member)
    for path in ("/p/bridged/mentions/x/connect", "/p/bridged/mentions/x/disconnect"):
        response = await post_form(client, path, {}, page="/p/bridged")
        assert response.status_code == 403
    assert (await client.get("/p/bridged/mentions/x/callback",
                             params={"state": "s", "code": "c"})).status_code == 403

    elsewhere = await make_user("elsewhere")
    other = await make_project("otherproj", owner=elsewhere,
                               default_visibility=Visibility.MEMBERS)
    await do_toggle_plugin(platform, other, NAME, True)
    await login(owner)  # a lead, but of another project
    response = await post_form(client, "/p/otherproj/mentions/x/connect", {},
                               page=SETTINGS)
    assert response.status_code == 404
    await login(None)
    anonymous = await client.post("/p/bridged/mentions/x/disconnect", data={})
    assert anonymous.status_code in (302, 303, 401, 403)
    callback_anon = await client.get("/p/bridged/mentions/x/callback",
                                     params={"state": "s", "code": "c"})
    assert callback_anon.status_code in (302, 303, 401)
    assert await XConnection.filter(project_id=project.id).count() == 1
    assert fake_x.of("/2/oauth2/token", "POST") == []


async def test_unreachable_token_endpoint_leaves_the_reply_to_be_retried(
        db: None, platform: Platform, fake_x: FakeX) -> None:
    project, _ = await bridged(platform, fake_x)
    await connected(platform, fake_x, project, expires_in=timedelta(seconds=0))
    mention = await imported(platform, fake_x, project)
    fake_x.fail_next(503, {"error": "over capacity"})
    with pytest.raises(Transient):
        await reply_to_mention(platform, mention)  # the job's backoff retries it
    assert fake_x.of("/2/tweets", "POST") == []
    row = await ImportedMention.get(id=mention)
    assert row.reply_state not in ("sent", "failed")
    state = await SourceState.get(project_id=project.id, source="x")
    assert state.spend_cents == 0 and not state.failing
    assert await stored(platform, project) == ("x-access-1", "x-refresh-1")
    assert await reply_to_mention(platform, mention) == "sent"
    assert await stored(platform, project) == ("x-access-2", "x-refresh-2")
