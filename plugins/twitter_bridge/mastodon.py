"""Mastodon: ``GET /api/v1/notifications?types[]=mention`` with ``since_id`` (newest
first, ``Link`` header for older pages); replies with ``POST /api/v1/statuses``,
``in_reply_to_id`` and an ``Idempotency-Key``, so a retried job never posts twice.

Limits come as ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (an ISO 8601 time).
Statuses are HTML; they are reduced to plain text. Only public and unlisted statuses are
imported: a private or direct mention is not published on the forum.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
    html_to_text,
    newer,
    parse_time,
    rate_limit,
    send,
    text_of,
)

log = logging.getLogger(__name__)
PAGE_SIZE = 40
MAX_PAGES = 5
PUBLISHED = ("public", "unlisted")


class MastodonSource:
    name = "mastodon"

    def __init__(self, *, instance_url: str, access_token: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        if not instance_url:
            raise Malformed("Mastodon: no instance URL is set")
        if not access_token:
            raise AuthFailed("Mastodon: no access token is set")
        self.instance_url = instance_url.rstrip("/")
        self.access_token = access_token
        self.transport = transport

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.instance_url, transport=self.transport, timeout=TIMEOUT,
            headers={"User-Agent": USER_AGENT, "Authorization": f"Bearer {self.access_token}"})

    async def fetch(self, cursor: str | None) -> MentionPage:
        params: dict[str, str] = {"types[]": "mention", "limit": str(PAGE_SIZE)}
        if cursor:
            params["since_id"] = cursor
        mentions: list[Mention] = []
        skipped = 0
        newest = cursor
        rate = RateLimit()
        async with self._client() as client:
            for _ in range(MAX_PAGES):
                request = client.build_request("GET", "/api/v1/notifications", params=params)
                response = await send(client, request, "Mastodon")
                rate = rate_limit(response.headers, "x-ratelimit")
                body = check_response(response, rate, "Mastodon")
                if not isinstance(body, list):
                    raise Malformed("Mastodon: the notifications are not a list", rate)
                for notification in body:
                    note_id = text_of(notification.get("id")) if isinstance(
                        notification, dict) else ""
                    if note_id and newer(note_id, newest):
                        newest = note_id
                    mention = parse_notification(notification)
                    if mention is None:
                        skipped += 1
                    else:
                        mentions.append(mention)
                older = next_max_id(response.headers.get("link", ""))
                # The first poll takes one page: a project is not flooded with old posts.
                if len(body) < PAGE_SIZE or older is None or rate.exhausted or cursor is None:
                    break
                params["max_id"] = older
        mentions.sort(key=lambda m: (m.created_at, len(m.external_id), m.external_id))
        return MentionPage(mentions=mentions, cursor=newest, rate=rate, skipped=skipped)

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        body = {"status": f"@{mention.author_handle} {text}",
                "in_reply_to_id": mention.external_id,
                "visibility": mention.reply_ref.get("visibility", "public")}
        async with self._client() as client:
            request = client.build_request("POST", "/api/v1/statuses", json=body,
                                           headers={"Idempotency-Key": idempotency_key})
            response = await send(client, request, "Mastodon")
            rate = rate_limit(response.headers, "x-ratelimit")
            status = check_response(response, rate, "Mastodon")
        if not isinstance(status, dict) or not text_of(status.get("id")):
            raise Malformed("Mastodon: the reply was not confirmed with an id", rate)
        return text_of(status.get("id"))


def next_max_id(link: str) -> str | None:
    """``max_id`` of the ``rel="next"`` link (older notifications), if any."""
    for part in link.split(","):
        match = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', part)
        if match:
            values = parse_qs(urlsplit(match.group(1)).query).get("max_id")
            return values[0] if values else None
    return None


def parse_notification(notification: Any) -> Mention | None:
    """A mention notification as a ``Mention``; ``None`` for anything else: the status was
    deleted (``status`` missing), it is private or direct, or fields are missing."""
    if not isinstance(notification, dict) or notification.get("type") != "mention":
        return None
    status = notification.get("status")
    if not isinstance(status, dict):
        log.info("Mastodon: notification %r has no status (deleted)", notification.get("id"))
        return None
    account = status.get("account") if isinstance(status.get("account"), dict) \
        else notification.get("account")
    status_id = text_of(status.get("id"))
    if not isinstance(account, dict) or not status_id or not text_of(account.get("acct")):
        return None
    visibility = text_of(status.get("visibility")) or "public"
    if visibility not in PUBLISHED:
        return None
    text = html_to_text(text_of(status.get("content")))
    if not text:
        return None
    acct = text_of(account.get("acct"))
    return Mention(
        source="mastodon", external_id=status_id, conversation_id=None,
        parent_id=text_of(status.get("in_reply_to_id")) or None,
        author_id=text_of(account.get("id")) or acct, author_handle=acct,
        author_name=text_of(account.get("display_name")) or acct,
        author_url=text_of(account.get("url")), text=text,
        created_at=parse_time(status.get("created_at")) or datetime.now(UTC),
        url=text_of(status.get("url")) or text_of(status.get("uri")),
        reply_ref={"visibility": visibility})
