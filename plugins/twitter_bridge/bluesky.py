"""Bluesky (AT Protocol): a session from the handle and an app password
(``com.atproto.server.createSession``), mentions and replies from
``app.bsky.notification.listNotifications`` (newest first, ``cursor`` for older pages),
replies with ``com.atproto.repo.createRecord``: an ``app.bsky.feed.post`` with ``reply``
``root`` and ``parent`` strong references and the thread's link as a facet, whose
``byteStart``/``byteEnd`` count UTF-8 bytes, not characters.

The stored cursor is the ``indexedAt`` of the newest notification seen: the API's own
cursor only pages backwards. Limits come as ``RateLimit-Remaining``/``RateLimit-Reset``.
``createSession`` has a tight limit of its own (a few hundred a day per account), so a
session is kept in the process and reused until it expires or the server says
``ExpiredToken``.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from plugins.twitter_bridge.sources import (
    TIMEOUT,
    USER_AGENT,
    AuthFailed,
    Malformed,
    Mention,
    MentionPage,
    RateLimit,
    check_response,
    dict_of,
    parse_time,
    rate_limit,
    send,
    text_of,
)

log = logging.getLogger(__name__)
SERVICE_URL = "https://bsky.social"
PAGE_SIZE = 50
MAX_PAGES = 5
REASONS = ("mention", "reply")
SESSION_LIFETIME = timedelta(minutes=90)  # access tokens live about two hours
EXPIRED = ("ExpiredToken", "InvalidToken")
# (service URL, handle, password digest) -> (accessJwt, did, valid until)
_sessions: dict[tuple[str, str, str], tuple[str, str, datetime]] = {}


class _Expired(Exception):
    """The access token was refused: sign in again once."""


def link_facet(text: str, url: str) -> list[dict[str, Any]]:
    """The facet that makes ``url`` in ``text`` a link, in UTF-8 byte offsets."""
    encoded, target = text.encode("utf-8"), url.encode("utf-8")
    start = encoded.find(target)
    if not url or start < 0:
        return []
    return [{"index": {"byteStart": start, "byteEnd": start + len(target)},
             "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}]}]


class BlueskySource:
    name = "bluesky"

    def __init__(self, *, service_url: str, handle: str, app_password: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not handle or not app_password:
            raise AuthFailed("Bluesky: set the handle and an app password")
        self.service_url = (service_url or SERVICE_URL).rstrip("/")
        self.handle = handle.lstrip("@")
        self.app_password = app_password
        self.transport = transport
        self.rate = RateLimit()
        digest = hashlib.sha256(app_password.encode()).hexdigest()
        self.session_key = (self.service_url, self.handle, digest)

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.service_url, transport=self.transport,
                                 timeout=TIMEOUT, headers={"User-Agent": USER_AGENT})

    async def _call(self, client: httpx.AsyncClient, method: str, nsid: str, *,
                    token: str | None = None, params: dict[str, str] | None = None,
                    body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = client.build_request(method, f"/xrpc/{nsid}", params=params, json=body,
                                       headers=headers)
        response = await send(client, request, "Bluesky")
        self.rate = rate_limit(response.headers, "ratelimit")
        if token and response.status_code in (400, 401):
            try:
                error = response.json().get("error")
            except (ValueError, AttributeError):
                error = None
            if error in EXPIRED:
                raise _Expired()
        return check_response(response, self.rate, "Bluesky")

    async def _session(self, client: httpx.AsyncClient, *, fresh: bool = False
                       ) -> tuple[str, str]:
        cached = _sessions.get(self.session_key)
        if cached is not None and not fresh and cached[2] > datetime.now(UTC):
            return cached[0], cached[1]
        _sessions.pop(self.session_key, None)
        session = await self._call(client, "POST", "com.atproto.server.createSession",
                                   body={"identifier": self.handle,
                                         "password": self.app_password})
        if not isinstance(session, dict) or not text_of(session.get("accessJwt")):
            raise Malformed("Bluesky: the session has no access token", self.rate)
        token, did = text_of(session.get("accessJwt")), text_of(session.get("did"))
        _sessions[self.session_key] = (token, did, datetime.now(UTC) + SESSION_LIFETIME)
        return token, did

    async def _authed(self, client: httpx.AsyncClient, method: str, nsid: str, *,
                      params: dict[str, str] | None = None,
                      body: dict[str, Any] | None = None) -> tuple[Any, str]:
        """Call with the session's token, signing in again once if it expired; returns
        the answer and the account's DID."""
        token, did = await self._session(client)
        try:
            return await self._call(client, method, nsid, token=token, params=params,
                                    body=body), did
        except _Expired:
            token, did = await self._session(client, fresh=True)
        try:
            return await self._call(client, method, nsid, token=token, params=params,
                                    body=body), did
        except _Expired:
            raise AuthFailed("Bluesky refused a fresh session token", self.rate) from None

    async def fetch(self, cursor: str | None) -> MentionPage:
        seen_until = parse_time(cursor) if cursor else None
        mentions: list[Mention] = []
        skipped = 0
        newest = cursor
        params = {"limit": str(PAGE_SIZE)}
        async with self._client() as client:
            for _ in range(MAX_PAGES):
                body, _ = await self._authed(client, "GET",
                                             "app.bsky.notification.listNotifications",
                                             params=params)
                notes = body.get("notifications") if isinstance(body, dict) else None
                if not isinstance(notes, list):
                    raise Malformed("Bluesky: the response has no notifications", self.rate)
                reached_seen = False
                for note in notes:
                    indexed = text_of(note.get("indexedAt")) if isinstance(note, dict) else ""
                    when = parse_time(indexed)
                    if seen_until is not None and when is not None and when <= seen_until:
                        reached_seen = True
                        continue
                    if when is not None and (newest is None or
                                             when > (parse_time(newest) or when)):
                        newest = indexed
                    if not isinstance(note, dict) or note.get("reason") not in REASONS:
                        continue
                    mention = parse_notification(note)
                    if mention is None:
                        skipped += 1
                    else:
                        mentions.append(mention)
                next_cursor = text_of(body.get("cursor"))
                # The first poll takes one page; later polls page back to what was seen.
                if reached_seen or not next_cursor or seen_until is None or not notes \
                        or self.rate.exhausted:
                    break
                params["cursor"] = next_cursor
        mentions.sort(key=lambda m: m.created_at)
        return MentionPage(mentions=mentions, cursor=newest, rate=self.rate, skipped=skipped)

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        root = mention.reply_ref.get("root")
        parent = mention.reply_ref.get("parent")
        if not isinstance(root, dict) or not isinstance(parent, dict):
            raise Malformed("Bluesky: the mention has no post reference to reply to")
        url = mention.reply_ref.get("link", "")
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post", "text": text,
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "reply": {"root": root, "parent": parent}}
        facets = link_facet(text, url) if isinstance(url, str) else []
        if facets:
            record["facets"] = facets
        async with self._client() as client:
            _, did = await self._session(client)
            created, _ = await self._authed(client, "POST", "com.atproto.repo.createRecord",
                                            body={"repo": did or self.handle,
                                                  "collection": "app.bsky.feed.post",
                                                  "record": record})
        if not isinstance(created, dict) or not text_of(created.get("uri")):
            raise Malformed("Bluesky: the reply was not confirmed with a uri", self.rate)
        return text_of(created.get("uri"))


def _ref(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and text_of(value.get("uri")) and text_of(value.get("cid")):
        return {"uri": text_of(value["uri"]), "cid": text_of(value["cid"])}
    return None


def parse_notification(note: dict[str, Any]) -> Mention | None:
    """A mention or reply notification as a ``Mention``; ``None`` when the record is gone
    or partial."""
    record, author = note.get("record"), note.get("author")
    own = _ref(note)
    if not isinstance(record, dict) or not isinstance(author, dict) or own is None:
        log.info("Bluesky: skipped notification %r (deleted or partial)", note.get("uri"))
        return None
    text, handle = text_of(record.get("text")), text_of(author.get("handle"))
    if not text or not handle:
        return None
    reply = dict_of(record.get("reply"))
    root, parent = _ref(reply.get("root")), _ref(reply.get("parent"))
    rkey = own["uri"].rsplit("/", 1)[-1]
    return Mention(
        source="bluesky", external_id=own["uri"],
        conversation_id=root["uri"] if root else own["uri"],
        parent_id=parent["uri"] if parent else None,
        author_id=text_of(author.get("did")) or handle, author_handle=handle,
        author_name=text_of(author.get("displayName")) or handle,
        author_url=f"https://bsky.app/profile/{handle}", text=text,
        created_at=parse_time(record.get("createdAt")) or parse_time(
            note.get("indexedAt")) or datetime.now(UTC),
        url=f"https://bsky.app/profile/{handle}/post/{rkey}",
        reply_ref={"root": root or own, "parent": own})
