"""GitHub App authentication: an RS256 JWT signed with the App's private key, exchanged
at ``POST /app/installations/{id}/access_tokens`` for an installation token, which is kept
until shortly before it expires (an hour, says GitHub; ``MARGIN`` before that a new one is
fetched).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import jwt

from plugins.github_import.client import GitHubClient, GitHubError

JWT_LIFETIME = 540  # seconds; GitHub accepts at most 10 minutes
CLOCK_SKEW = 60  # issued this far in the past, as GitHub recommends
MARGIN = 300  # renew an installation token this long before it expires


def app_jwt(app_id: str, private_key_pem: str, now: float | None = None) -> str:
    """The App's JWT (``iss`` = App id, RS256)."""
    issued = int(time.time() if now is None else now) - CLOCK_SKEW
    try:
        return jwt.encode({"iat": issued, "exp": issued + CLOCK_SKEW + JWT_LIFETIME,
                           "iss": str(app_id)}, private_key_pem, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise GitHubError(0, f"the App's private key cannot sign ({exc})") from None


def _expiry(value: object, now: float) -> float:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return now + 3600


@dataclass
class InstallationTokens:
    """Installation tokens by (API URL, App id, installation id), valid until their
    expiry minus ``MARGIN``; one fetch at a time per installation."""

    tokens: dict[tuple[str, str, str], tuple[str, float]] = field(default_factory=dict)
    _locks: dict[tuple[str, str, str], asyncio.Lock] = field(default_factory=dict)

    def forget(self) -> None:
        self.tokens.clear()

    async def token(self, api_url: str, app_id: str, private_key_pem: str,
                    installation_id: str,
                    transport: httpx.AsyncBaseTransport | None = None) -> str:
        key = (api_url.rstrip("/"), str(app_id), str(installation_id))
        cached = self.tokens.get(key)
        if cached is not None and cached[1] - MARGIN > time.time():
            return cached[0]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self.tokens.get(key)
            if cached is not None and cached[1] - MARGIN > time.time():
                return cached[0]
            async with GitHubClient(api_url, transport=transport) as bare:
                answer = await bare.create_installation_token(
                    installation_id, app_jwt(app_id, private_key_pem))
            token = answer.get("token")
            if not isinstance(token, str) or not token:
                raise GitHubError(502, "GitHub gave no installation token")
            self.tokens[key] = (token, _expiry(answer.get("expires_at"), time.time()))
            return token


# Tokens are per process, like the connection pool they are used with.
installation_tokens = InstallationTokens()
