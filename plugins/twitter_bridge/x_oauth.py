"""The project's X account connected with OAuth 2.0 Authorization Code + PKCE (S256).

A lead starts the flow from the settings page; the state and the code verifier stay in
the lead's session, bound to the lead and the project, for ten minutes and one use. The
callback exchanges the code at ``<x_api_url>/2/oauth2/token`` and stores the access token,
the refresh token (scope ``offline.access``) and the expiry in ``XConnection``, sealed.

Replies take the access token from ``XTokens``: it refreshes the token when it expires
within 60 s, or once when X answers 401. X rotates refresh tokens (the old one stops
working), so the new pair is stored under a conditional update on the refresh token that
was used; a worker that loses the race reads the winner's tokens instead.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from forum.platform import Platform
from plugins.twitter_bridge.models import XConnection
from plugins.twitter_bridge.sources import (
    TIMEOUT,
    USER_AGENT,
    AuthFailed,
    BridgeSettings,
    Transient,
    dict_of,
    send,
    text_of,
)

log = logging.getLogger(__name__)
PURPOSE = "twitter_bridge"
SCOPES = "tweet.read tweet.write users.read offline.access"
REFRESH_MARGIN = timedelta(seconds=60)
STATE_TTL = timedelta(minutes=10)
SESSION_KEY = "twitter_bridge_x_oauth"
RECONNECT = "reconnect the X account on the mentions settings page"


class TokenRefused(Exception):
    """The token endpoint answered 4xx (``error`` is X's code, e.g. invalid_grant)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime | None


def pkce_pair() -> tuple[str, str]:
    """A code verifier (43 URL-safe characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)[:64]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def redirect_uri(platform: Platform, slug: str) -> str:
    return f"{platform.settings.public_url.rstrip('/')}/p/{slug}/mentions/x/callback"


def authorize_url(settings: BridgeSettings, redirect: str, state: str, challenge: str) -> str:
    query = urlencode({"response_type": "code", "client_id": settings.x_client_id,
                       "redirect_uri": redirect, "scope": SCOPES, "state": state,
                       "code_challenge": challenge, "code_challenge_method": "S256"})
    return f"{settings.x_authorize_url}?{query}"


def start_flow(session: dict[str, Any], user_id: int, project_id: int) -> tuple[str, str]:
    """A fresh state and challenge; the state and verifier are kept in ``session``."""
    state = secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair()
    session[SESSION_KEY] = {"state": state, "verifier": verifier, "uid": user_id,
                            "project": project_id,
                            "at": datetime.now(UTC).isoformat()}
    return state, challenge


def take_flow(session: dict[str, Any], state: str, user_id: int, project_id: int
              ) -> str | None:
    """The code verifier when ``state`` is the one this lead started for this project in
    the last ten minutes; the pending flow is used up either way."""
    pending = session.pop(SESSION_KEY, None)
    if not isinstance(pending, dict) or not state:
        return None
    try:
        started = datetime.fromisoformat(str(pending.get("at")))
    except ValueError:
        return None
    if (not secrets.compare_digest(str(pending.get("state", "")), state)
            or pending.get("uid") != user_id or pending.get("project") != project_id
            or datetime.now(UTC) - started > STATE_TTL):
        return None
    verifier = pending.get("verifier")
    return verifier if isinstance(verifier, str) else None


def _client(settings: BridgeSettings, transport: httpx.AsyncBaseTransport | None
            ) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=settings.x_api_url.rstrip("/"), transport=transport,
                             timeout=TIMEOUT, headers={"User-Agent": USER_AGENT})


async def token_request(settings: BridgeSettings, data: dict[str, str],
                        transport: httpx.AsyncBaseTransport | None) -> Tokens:
    """POST the token endpoint (HTTP Basic auth when a client secret is set, as X asks of
    confidential clients). TokenRefused on 4xx, Transient on 5xx or no answer."""
    data = {**data, "client_id": settings.x_client_id}
    secret = settings.secret("x_client_secret")
    headers = {}
    if secret:
        pair = f"{settings.x_client_id}:{secret}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
    async with _client(settings, transport) as client:
        request = client.build_request("POST", "/2/oauth2/token", data=data, headers=headers)
        response = await send(client, request, "X")
    try:
        body = dict_of(response.json())
    except ValueError:
        body = {}
    if response.status_code >= 500:
        raise Transient(f"X token endpoint answered {response.status_code}")
    if response.status_code >= 400:
        raise TokenRefused(text_of(body.get("error")) or str(response.status_code),
                           text_of(body.get("error_description"))[:200])
    access, refresh = text_of(body.get("access_token")), text_of(body.get("refresh_token"))
    if not access:
        raise TokenRefused("invalid_response", "no access token in the answer")
    expires_in = body.get("expires_in")
    expires_at = (datetime.now(UTC) + timedelta(seconds=int(expires_in))
                  if isinstance(expires_in, int) else None)
    return Tokens(access, refresh, expires_at)


async def exchange_code(settings: BridgeSettings, code: str, verifier: str, redirect: str,
                        transport: httpx.AsyncBaseTransport | None) -> Tokens:
    return await token_request(settings, {"grant_type": "authorization_code", "code": code,
                                          "code_verifier": verifier,
                                          "redirect_uri": redirect}, transport)


async def fetch_handle(settings: BridgeSettings, access_token: str,
                       transport: httpx.AsyncBaseTransport | None) -> str:
    """The connected account's @handle (``GET /2/users/me``), "" when X does not say."""
    async with _client(settings, transport) as client:
        request = client.build_request("GET", "/2/users/me",
                                       headers={"Authorization": f"Bearer {access_token}"})
        response = await send(client, request, "X")
    if response.status_code != 200:
        return ""
    try:
        data = dict_of(dict_of(response.json()).get("data"))
    except ValueError:
        return ""
    return text_of(data.get("username"))[:100]


async def do_connect(platform: Platform, project_id: int, handle: str,
                     tokens: Tokens) -> XConnection:
    values = {"handle": handle,
              "access_token_sealed": platform.seal(PURPOSE, tokens.access_token),
              "refresh_token_sealed": platform.seal(PURPOSE, tokens.refresh_token),
              "expires_at": tokens.expires_at}
    row, _ = await XConnection.update_or_create(defaults=values, project_id=project_id)
    return row


async def do_disconnect(project_id: int) -> bool:
    return await XConnection.filter(project_id=project_id).delete() > 0


async def connection(project_id: int) -> XConnection | None:
    return await XConnection.get_or_none(project_id=project_id)


class XTokens:
    """The access token of a project's connected X account, refreshed when needed."""

    def __init__(self, platform: Platform, project_id: int, settings: BridgeSettings,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.platform = platform
        self.project_id = project_id
        self.settings = settings
        self.transport = transport

    async def _row(self) -> XConnection:
        row = await connection(self.project_id)
        if row is None:
            raise AuthFailed(f"X: the account is not connected any more: {RECONNECT}")
        return row

    async def access_token(self) -> str:
        """A token valid for at least a minute (refreshed first when it is not)."""
        row = await self._row()
        token = self.platform.unseal(PURPOSE, row.access_token_sealed)
        if token and (row.expires_at is None
                      or row.expires_at - datetime.now(UTC) > REFRESH_MARGIN):
            return token
        return await self._refresh(row)

    async def refresh(self, rejected: str) -> str:
        """A new access token after X refused ``rejected`` (401); when another worker has
        refreshed since, its token is used without asking X."""
        row = await self._row()
        current = self.platform.unseal(PURPOSE, row.access_token_sealed)
        if current and current != rejected:
            return current
        return await self._refresh(row)

    async def _refresh(self, row: XConnection) -> str:
        used = row.refresh_token_sealed
        refresh_token = self.platform.unseal(PURPOSE, used)
        if not refresh_token:
            raise AuthFailed(f"X: no refresh token is stored: {RECONNECT}")
        try:
            tokens = await token_request(self.settings, {"grant_type": "refresh_token",
                                                         "refresh_token": refresh_token},
                                         self.transport)
        except Transient as exc:
            # Only the token endpoint was asked: the reply itself was not posted.
            raise Transient(exc.reason, exc.rate) from None
        except TokenRefused as exc:
            latest = await connection(self.project_id)
            if latest is not None and latest.refresh_token_sealed != used:
                # Another worker refreshed with the same token first: X rotated it.
                return self.platform.unseal(PURPOSE, latest.access_token_sealed)
            raise AuthFailed(f"X refused the refresh token ({exc.error}): {RECONNECT}") \
                from None
        changed = await XConnection.filter(id=row.id, refresh_token_sealed=used).update(
            access_token_sealed=self.platform.seal(PURPOSE, tokens.access_token),
            refresh_token_sealed=self.platform.seal(
                PURPOSE, tokens.refresh_token or refresh_token),
            expires_at=tokens.expires_at, updated_at=datetime.now(UTC))
        if changed != 1:
            latest = await self._row()
            log.info("X tokens of project %s were refreshed by another worker",
                     self.project_id)
            return self.platform.unseal(PURPOSE, latest.access_token_sealed)
        return tokens.access_token
