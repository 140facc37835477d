"""Helpers for tests: PostgreSQL administration, CSRF-aware form posts, mail parsing."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from base64 import b64encode
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import itsdangerous

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.settings import Settings

Login = Callable[["User | None"], Awaitable[None]]


def session_cookie(settings: Settings, user: User) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it, carrying what
    AuthMiddleware reads: a client holding it is signed in as ``user``."""
    data = b64encode(json.dumps({"uid": user.id, "ver": user.session_version}).encode())
    return itsdangerous.TimestampSigner(settings.secret()).sign(data).decode()


def pg_url_for(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


def pg_execute(server_url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE), from any context."""
    import asyncpg

    async def run() -> None:
        parts = urlsplit(server_url)
        conn = await asyncpg.connect(host=parts.hostname, port=parts.port or 5432,
                                     user=parts.username or "postgres",
                                     password=parts.password or None,
                                     database=parts.path.lstrip("/") or "postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    error: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(run())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_from(client: httpx.AsyncClient, path: str) -> str:
    """Load a page and return the CSRF token of its first form."""
    response = await client.get(path)
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {path} (status {response.status_code})"
    return match.group(1)


async def post_form(client: httpx.AsyncClient, path: str, data: dict[str, Any],
                    *, page: str | None = None) -> httpx.Response:
    """Submit a form the way a browser does: fetch the page for its token, then post."""
    token = await csrf_from(client, page or path)
    return await client.post(path, data={**data, "csrf_token": token})
