"""X (API v2): recent search or a user's mentions with ``since_id``; replies with
``reply.in_reply_to_tweet_id`` under a user-context OAuth 2 token.

Reading uses the app's bearer token; each response carries ``x-rate-limit-remaining`` and
``x-rate-limit-reset`` (epoch seconds). Results come newest first; ``meta.next_token``
pages towards older ones, ``meta.newest_id`` is the next ``since_id``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol

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
    newer,
    parse_time,
    rate_limit,
    send,
    text_of,
)

log = logging.getLogger(__name__)
API_URL = "https://api.x.com"
MAX_PAGES = 5
TWEET_FIELDS = "conversation_id,created_at,referenced_tweets,author_id"


class ReplyTokens(Protocol):
    """Where a connected account's access token comes from (x_oauth.XTokens)."""

    async def access_token(self) -> str:
        """A token that stays valid for at least a minute."""

    async def refresh(self, rejected: str) -> str:
        """A new token after X answered 401 to ``rejected``."""


class XSource:
    name = "x"

    def __init__(self, *, bearer_token: str, query: str = "", user_id: str = "",
                 reply_token: str = "", api_url: str = API_URL,
                 transport: httpx.AsyncBaseTransport | None = None,
                 tokens: ReplyTokens | None = None) -> None:
        if not bearer_token:
            raise AuthFailed("X: no bearer token is set")
        if not (query or user_id):
            raise Malformed("X: set a search query or a user id to read mentions of")
        self.bearer_token = bearer_token
        self.query = query
        self.user_id = user_id
        self.reply_token = reply_token
        self.api_url = api_url.rstrip("/")
        self.transport = transport
        self.tokens = tokens  # the connected account; else the pasted reply_token

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.api_url, transport=self.transport,
                                 timeout=TIMEOUT, headers={"User-Agent": USER_AGENT})

    async def fetch(self, cursor: str | None) -> MentionPage:
        if self.user_id:
            path = f"/2/users/{self.user_id}/mentions"
            page_param = "pagination_token"
            params: dict[str, str] = {}
        else:
            path = "/2/tweets/search/recent"
            page_param = "next_token"
            params = {"query": self.query}
        params.update({"max_results": "100", "expansions": "author_id",
                       "tweet.fields": TWEET_FIELDS, "user.fields": "username,name"})
        if cursor:
            params["since_id"] = cursor
        mentions: list[Mention] = []
        skipped = 0
        newest = cursor
        rate = RateLimit()
        async with self._client() as client:
            for _ in range(MAX_PAGES):
                request = client.build_request(
                    "GET", path, params=params,
                    headers={"Authorization": f"Bearer {self.bearer_token}"})
                response = await send(client, request, "X")
                rate = rate_limit(response.headers, "x-rate-limit")
                body = check_response(response, rate, "X")
                if not isinstance(body, dict):
                    raise Malformed("X: the response is not an object", rate)
                found, bad = parse_tweets(body)
                mentions += found
                skipped += bad
                meta = dict_of(body.get("meta"))
                newest_id = text_of(meta.get("newest_id"))
                if newest_id and newer(newest_id, newest):
                    newest = newest_id
                for mention in found:
                    if newer(mention.external_id, newest):
                        newest = mention.external_id
                token = text_of(meta.get("next_token"))
                # The first poll takes one page: a project is not flooded with old posts.
                if not token or rate.exhausted or cursor is None:
                    break
                params[page_param] = token
        mentions.sort(key=lambda m: (len(m.external_id), m.external_id))
        return MentionPage(mentions=mentions, cursor=newest, rate=rate, skipped=skipped)

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        """Post the reply. With a connected account, a 401 refreshes the token once and
        the post is retried (a 401 means X did not take it)."""
        if self.tokens is not None:
            token = await self.tokens.access_token()
        elif self.reply_token:
            token = self.reply_token
        else:
            raise AuthFailed("X: no user-context token for replies is set: connect the "
                             "X account on the mentions settings page")
        payload = {"text": text, "reply": {"in_reply_to_tweet_id": mention.external_id}}
        async with self._client() as client:
            response = await self._post(client, payload, token)
            if response.status_code == 401 and self.tokens is not None:
                token = await self.tokens.refresh(token)
                response = await self._post(client, payload, token)
            rate = rate_limit(response.headers, "x-rate-limit")
            body = check_response(response, rate, "X")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not text_of(data.get("id")):
            raise Malformed("X: the reply was not confirmed with an id", rate)
        return text_of(data.get("id"))

    async def _post(self, client: httpx.AsyncClient, payload: dict[str, Any],
                    token: str) -> httpx.Response:
        request = client.build_request("POST", "/2/tweets", json=payload,
                                       headers={"Authorization": f"Bearer {token}"})
        return await send(client, request, "X")


def parse_tweets(body: dict[str, Any]) -> tuple[list[Mention], int]:
    """Tweets of a v2 response with their authors from ``includes.users``; a tweet without
    an id, text or known author is skipped (deleted, or withheld: see ``errors``)."""
    data = body.get("data", [])
    includes = dict_of(body.get("includes"))
    users = {text_of(u.get("id")): u for u in includes.get("users", []) or []
             if isinstance(u, dict)}
    if not isinstance(data, list):
        return [], 1
    mentions: list[Mention] = []
    skipped = 0
    for tweet in data:
        if not isinstance(tweet, dict):
            skipped += 1
            continue
        tweet_id, text = text_of(tweet.get("id")), text_of(tweet.get("text"))
        author = users.get(text_of(tweet.get("author_id")))
        if not tweet_id.isdigit() or not text or author is None:
            log.info("X: skipped tweet %r (deleted, withheld or partial)", tweet_id)
            skipped += 1
            continue
        username = text_of(author.get("username")) or text_of(author.get("id"))
        parent = None
        for ref in tweet.get("referenced_tweets") or []:
            if isinstance(ref, dict) and ref.get("type") == "replied_to":
                parent = text_of(ref.get("id")) or None
        mentions.append(Mention(
            source="x", external_id=tweet_id,
            conversation_id=text_of(tweet.get("conversation_id")) or None,
            parent_id=parent, author_id=text_of(author.get("id")), author_handle=username,
            author_name=text_of(author.get("name")),
            author_url=f"https://x.com/{username}", text=text,
            created_at=parse_time(tweet.get("created_at")) or datetime.now(UTC),
            url=f"https://x.com/{username}/status/{tweet_id}"))
    return mentions, skipped
