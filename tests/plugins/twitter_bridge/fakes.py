"""Local fakes of the three networks, with the response shapes their documentation gives.

- X API v2: ``GET /2/tweets/search/recent`` and ``GET /2/users/:id/mentions`` (``since_id``,
  ``max_results``, ``next_token``/``pagination_token``; ``data``, ``includes.users``,
  ``meta.newest_id``/``next_token``; ``x-rate-limit-*`` headers), ``POST /2/tweets``.
- Mastodon: ``GET /api/v1/notifications`` (``types[]``, ``since_id``, ``max_id``,
  ``limit``; a ``Link`` header; ``X-RateLimit-*`` headers), ``POST /api/v1/statuses``
  honouring ``Idempotency-Key``.
- Bluesky: ``com.atproto.server.createSession``, ``app.bsky.notification.listNotifications``
  (``cursor``), ``com.atproto.repo.createRecord``; ``RateLimit-*`` headers.

Each is a Starlette app served by uvicorn on 127.0.0.1 in a thread, so the adapters'
real httpx code talks real HTTP. Every request is recorded (method, path, query pairs,
headers, JSON body) for the tests to assert; ``fail_next`` makes the next answers errors.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

X_BEARER = "x-app-bearer"
X_USER_TOKEN = "x-user-oauth2"
MASTODON_TOKEN = "mastodon-token"
BLUESKY_HANDLE = "forum.bsky.social"
BLUESKY_PASSWORD = "abcd-efgh-ijkl-mnop"
BLUESKY_DID = "did:plc:forumproject"


@dataclass
class Recorded:
    method: str
    path: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)


@dataclass
class Fake(ABC):
    """What every fake shares: the URL, the recorded requests, injected failures."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    failures: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    rate_headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering a post (to make the client time out)

    def fail_next(self, status: int, body: Any = None, headers: dict[str, str] | None = None
                  ) -> None:
        self.failures.append((status, body, headers or {}))

    async def record(self, request: Request) -> Recorded:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        entry = Recorded(request.method, request.url.path, list(request.query_params.multi_items()),
                         {k.lower(): v for k, v in request.headers.items()}, body)
        self.requests.append(entry)
        return entry

    def injected(self) -> Response | None:
        if not self.failures:
            return None
        status, body, headers = self.failures.pop(0)
        if isinstance(body, str):
            return Response(body, status_code=status, headers=headers,
                            media_type="text/plain")
        return JSONResponse(body if body is not None else {"error": "injected"},
                            status_code=status, headers=headers)

    def of(self, path: str, method: str = "GET") -> list[Recorded]:
        return [r for r in self.requests if r.path == path and r.method == method]

    @abstractmethod
    def app(self) -> Starlette:
        """The fake's Starlette app."""


# X


def tweet(id: int, text: str, author: str, *, conversation: int | None = None,
          replied_to: int | None = None, created_at: str = "2026-11-20T10:00:00.000Z"
          ) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(id), "text": text, "author_id": author,
                            "conversation_id": str(conversation or id),
                            "created_at": created_at, "edit_history_tweet_ids": [str(id)]}
    if replied_to:
        data["referenced_tweets"] = [{"type": "replied_to", "id": str(replied_to)}]
    return data


X_CLIENT_ID = "forum-x-client"


@dataclass
class FakeX(Fake):
    """Also X's OAuth 2.0 token endpoint: authorization codes bound to the PKCE challenge
    and redirect URI they were issued for (``approve``), two-hour access tokens, refresh
    tokens that rotate (a used one stops working), HTTP Basic auth when ``client_secret``
    is set; and ``GET /2/users/me``."""

    tweets: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    page_size: int = 100
    posted: list[dict[str, Any]] = field(default_factory=list)
    client_id: str = X_CLIENT_ID
    client_secret: str = ""
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code: challenge, uri
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    issued: int = 0
    reject_posts: int = 0  # the next posts answer 401 (a token X revoked early)
    me: dict[str, str] = field(default_factory=lambda: {
        "id": "990", "name": "Forum project", "username": "forumproject"})

    def approve(self, challenge: str, redirect_uri: str) -> str:
        """The code X hands back after the user consents on the authorize page."""
        code = f"code-{len(self.codes) + 1}"
        self.codes[code] = (challenge, redirect_uri)
        return code

    def _issue(self) -> dict[str, Any]:
        self.issued += 1
        access, refresh = f"x-access-{self.issued}", f"x-refresh-{self.issued}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {"token_type": "bearer", "expires_in": 7200, "access_token": access,
                "refresh_token": refresh,
                "scope": "tweet.read tweet.write users.read offline.access"}

    async def token(self, request: Request) -> Response:
        entry = await self.record(request)
        failure = self.injected()
        if failure is not None:
            return failure
        form = dict(parse_qsl(entry.body if isinstance(entry.body, str) else ""))

        def refused(error: str) -> Response:
            return JSONResponse({"error": error, "error_description": f"fake: {error}"},
                                status_code=400)

        if self.client_secret:
            pair = f"{self.client_id}:{self.client_secret}".encode()
            if entry.headers.get("authorization") != f"Basic {base64.b64encode(pair).decode()}":
                return JSONResponse({"error": "unauthorized_client"}, status_code=401)
        if form.get("client_id") != self.client_id:
            return refused("invalid_client")
        if form.get("grant_type") == "authorization_code":
            found = self.codes.pop(form.get("code", ""), None)
            if found is None:
                return refused("invalid_grant")
            challenge, uri = found
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if (base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge
                    or form.get("redirect_uri") != uri):
                return refused("invalid_grant")
            return JSONResponse(self._issue())
        if form.get("grant_type") == "refresh_token":
            used = form.get("refresh_token", "")
            if used not in self.refresh_tokens:
                return refused("invalid_grant")
            self.refresh_tokens.discard(used)  # rotation: the old one stops working
            return JSONResponse(self._issue())
        return refused("unsupported_grant_type")

    async def users_me(self, request: Request) -> Response:
        entry = await self.record(request)
        token = entry.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.access_tokens:
            return JSONResponse({"title": "Unauthorized", "status": 401}, status_code=401)
        return JSONResponse({"data": self.me})

    def add_user(self, id: str, username: str, name: str) -> None:
        self.users[id] = {"id": id, "username": username, "name": name}

    async def search(self, request: Request) -> Response:
        entry = await self.record(request)
        failure = self.injected()
        if failure is not None:
            return failure
        if entry.headers.get("authorization") != f"Bearer {X_BEARER}":
            return JSONResponse({"title": "Unauthorized", "type": "about:blank",
                                 "status": 401, "detail": "Unauthorized"}, status_code=401)
        since = int(entry.param("since_id") or 0)
        newest_first = sorted((t for t in self.tweets if int(t["id"]) > since),
                              key=lambda t: -int(t["id"]))
        token = entry.param("next_token") or entry.param("pagination_token")
        start = int(token) if token else 0
        page = newest_first[start:start + self.page_size]
        headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": "449",
                   "x-rate-limit-reset": str(int(time.time()) + 900), **self.rate_headers}
        if not page:
            return JSONResponse({"meta": {"result_count": 0}}, headers=headers)
        meta: dict[str, Any] = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"],
                                "result_count": len(page)}
        if start + self.page_size < len(newest_first):
            meta["next_token"] = str(start + self.page_size)
        authors = {t["author_id"] for t in page}
        return JSONResponse({"data": page, "includes": {
            "users": [u for uid, u in self.users.items() if uid in authors]}, "meta": meta},
            headers=headers)

    async def post(self, request: Request) -> Response:
        entry = await self.record(request)
        failure = self.injected()
        if failure is not None:
            return failure
        token = entry.headers.get("authorization", "").removeprefix("Bearer ")
        if self.reject_posts:
            self.reject_posts -= 1
            return JSONResponse({"title": "Unauthorized", "status": 401}, status_code=401)
        if token != X_USER_TOKEN and token not in self.access_tokens:
            return JSONResponse({"title": "Unauthorized", "status": 401}, status_code=401)
        await asyncio.sleep(self.delay)
        new_id = str(1_900_000_000_000_000_000 + len(self.posted))
        self.posted.append(entry.body)
        return JSONResponse({"data": {"id": new_id, "text": entry.body["text"],
                                      "edit_history_tweet_ids": [new_id]}}, status_code=201)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/2/tweets/search/recent", self.search),
            Route("/2/users/{id}/mentions", self.search),
            Route("/2/tweets", self.post, methods=["POST"]),
            Route("/2/oauth2/token", self.token, methods=["POST"]),
            Route("/2/users/me", self.users_me),
        ])


# Mastodon


def account(id: str, acct: str, name: str = "") -> dict[str, Any]:
    return {"id": id, "username": acct.split("@")[0], "acct": acct,
            "display_name": name or acct, "url": f"https://social.example/@{acct}"}


def notification(id: int, status_id: int, who: dict[str, Any], content: str, *,
                 in_reply_to: int | None = None, visibility: str = "public",
                 deleted: bool = False) -> dict[str, Any]:
    note: dict[str, Any] = {"id": str(id), "type": "mention",
                            "created_at": "2026-11-20T10:00:00.000Z", "account": who}
    if not deleted:
        note["status"] = {
            "id": str(status_id), "created_at": "2026-11-20T10:00:00.000Z",
            "in_reply_to_id": str(in_reply_to) if in_reply_to else None,
            "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
            "visibility": visibility, "language": "en",
            "uri": f"https://social.example/users/{who['username']}/statuses/{status_id}",
            "url": f"https://social.example/@{who['acct']}/{status_id}",
            "content": content, "account": who, "mentions": [], "tags": []}
    return note


@dataclass
class FakeMastodon(Fake):
    notifications: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)  # by Idempotency-Key

    async def list(self, request: Request) -> Response:
        entry = await self.record(request)
        failure = self.injected()
        if failure is not None:
            return failure
        if entry.headers.get("authorization") != f"Bearer {MASTODON_TOKEN}":
            return JSONResponse({"error": "The access token is invalid"}, status_code=401)
        since = int(entry.param("since_id") or 0)
        max_id = int(entry.param("max_id") or 10**30)
        limit = int(entry.param("limit") or 40)
        types = [v for k, v in entry.params if k == "types[]"]
        found = sorted((n for n in self.notifications
                        if since < int(n["id"]) < max_id and (not types or n["type"] in types)),
                       key=lambda n: -int(n["id"]))[:limit]
        headers = {"x-ratelimit-limit": "300", "x-ratelimit-remaining": "299",
                   "x-ratelimit-reset": "2026-11-20T10:05:00.000000Z", **self.rate_headers}
        if found:
            base = f"{self.url}/api/v1/notifications"
            headers["link"] = (f'<{base}?max_id={found[-1]["id"]}>; rel="next", '
                               f'<{base}?min_id={found[0]["id"]}>; rel="prev"')
        return JSONResponse(found, headers=headers)

    async def post(self, request: Request) -> Response:
        entry = await self.record(request)
        failure = self.injected()
        if failure is not None:
            return failure
        if entry.headers.get("authorization") != f"Bearer {MASTODON_TOKEN}":
            return JSONResponse({"error": "The access token is invalid"}, status_code=401)
        key = entry.headers.get("idempotency-key", f"none-{len(self.statuses)}")
        if key not in self.statuses:
            self.statuses[key] = {"id": str(9000 + len(self.statuses)),
                                  "content": f"<p>{entry.body['status']}</p>",
                                  "in_reply_to_id": entry.body.get("in_reply_to_id"),
                                  "visibility": entry.body.get("visibility", "public")}
        return JSONResponse(self.statuses[key])

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/v1/notifications", self.list),
            Route("/api/v1/statuses", self.post, methods=["POST"]),
        ])


# Bluesky


def bsky_notification(n: int, handle: str, text: str, *, reason: str = "mention",
                      root: tuple[str, str] | None = None,
                      parent: tuple[str, str] | None = None,
                      indexed_at: str | None = None, record: bool = True) -> dict[str, Any]:
    did = f"did:plc:{handle.split('.')[0]}"
    uri = f"at://{did}/app.bsky.feed.post/3k{n:06d}"
    when = indexed_at or f"2026-11-20T10:{n % 60:02d}:00.000Z"
    note: dict[str, Any] = {
        "uri": uri, "cid": f"bafyreicid{n:06d}",
        "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0].title()},
        "reason": reason, "isRead": False, "indexedAt": when, "labels": []}
    if record:
        rec: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text, "createdAt": when}
        if root and parent:
            rec["reply"] = {"root": {"uri": root[0], "cid": root[1]},
                            "parent": {"uri": parent[0], "cid": parent[1]}}
        note["record"] = rec
    return note


@dataclass
class FakeBluesky(Fake):
    notifications: list[dict[str, Any]] = field(default_factory=list)  # newest first
    page_size: int = 50
    records: list[dict[str, Any]] = field(default_factory=list)
    sessions: int = 0  # access tokens handed out; only the newest is valid

    @property
    def token(self) -> str:
        return f"bsky-access-jwt-{self.sessions}"

    def expire_token(self) -> None:
        """The current access token expires: the next call gets ``ExpiredToken``."""
        self.sessions += 1

    async def session(self, request: Request) -> Response:
        entry = await self.record(request)
        failure = self.injected()
        if failure is not None:
            return failure
        body = entry.body or {}
        if body.get("identifier") != BLUESKY_HANDLE or body.get("password") != BLUESKY_PASSWORD:
            return JSONResponse({"error": "AuthenticationRequired",
                                 "message": "Invalid identifier or password"}, status_code=401)
        self.sessions += 1
        return JSONResponse({"accessJwt": self.token, "refreshJwt": "bsky-refresh",
                             "handle": BLUESKY_HANDLE, "did": BLUESKY_DID})

    def _authorized(self, entry: Recorded) -> bool:
        return entry.headers.get("authorization") == f"Bearer {self.token}"

    async def list(self, request: Request) -> Response:
        entry = await self.record(request)
        failure = self.injected()
        if failure is not None:
            return failure
        if not self._authorized(entry):
            return JSONResponse({"error": "ExpiredToken", "message": "Token has expired"},
                                status_code=400)
        start = int(entry.param("cursor") or 0)
        page = self.notifications[start:start + self.page_size]
        body: dict[str, Any] = {"notifications": page, "seenAt": "2026-11-20T09:00:00.000Z"}
        if start + self.page_size < len(self.notifications):
            body["cursor"] = str(start + self.page_size)
        headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "2999",
                   "ratelimit-reset": str(int(time.time()) + 300),
                   "ratelimit-policy": "3000;w=300", **self.rate_headers}
        return JSONResponse(body, headers=headers)

    async def create(self, request: Request) -> Response:
        entry = await self.record(request)
        failure = self.injected()
        if failure is not None:
            return failure
        if not self._authorized(entry):
            return JSONResponse({"error": "ExpiredToken"}, status_code=400)
        self.records.append(entry.body)
        n = len(self.records)
        return JSONResponse({"uri": f"at://{BLUESKY_DID}/app.bsky.feed.post/3reply{n:04d}",
                             "cid": f"bafyreireply{n:04d}", "validationStatus": "valid"})

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/xrpc/com.atproto.server.createSession", self.session, methods=["POST"]),
            Route("/xrpc/app.bsky.notification.listNotifications", self.list),
            Route("/xrpc/com.atproto.repo.createRecord", self.create, methods=["POST"]),
        ])


