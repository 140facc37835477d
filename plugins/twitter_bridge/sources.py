"""The mention source protocol: what every network adapter (X, Mastodon, Bluesky) offers.

An adapter reads the project's mentions a page at a time from a stored cursor and replies
to one mention. It never touches the database: ``poll.py`` stores the cursors, the rate
limit waits and the imported mentions. Every failure is one of the ``SourceError``
subclasses below, so the poller knows whether to wait, retry, or mark the source failing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, Field, SecretStr, field_serializer, field_validator

from forum.web.outbound import PrivateAddressRefused

SOURCES = ("x", "mastodon", "bluesky")
SOURCE_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}
TIMEOUT = httpx.Timeout(20.0)  # per request; the tests shorten it
USER_AGENT = "forum-twitter-bridge/1.0"


SECRETS = ("x_bearer_token", "x_reply_token", "x_client_secret", "mastodon_access_token",
           "bluesky_app_password")


class BridgeSettings(BaseModel):
    """A project's settings: one block per network, each used once its credentials are set.
    Secrets are write-only on the settings page."""

    reply_template: str = Field(
        "Thanks for the mention! We opened a thread for it: {url}", max_length=240,
        title="Reply template",
        description="The reply posted under a mention when replies are on for its network; "
                    "{url} is the thread's link, {handle} the author's handle.")
    x_bearer_token: SecretStr | None = Field(
        None, title="X: app bearer token",
        description="Reads mentions. From the X developer portal: your project's app, "
                    "'Keys and tokens', Bearer Token.")
    x_search_query: str = Field(
        "", max_length=512, title="X: search query",
        description="Recent search, e.g. '@yourproject OR yourproject.org -is:retweet'. "
                    "Or set a user id below.")
    x_user_id: str = Field(
        "", max_length=30, pattern=r"^[0-9]*$", title="X: user id for mentions",
        description="The numeric id of the project's account (reads its mentions "
                    "timeline instead of searching).")
    x_client_id: str = Field(
        "", max_length=100, title="X: OAuth 2.0 client ID",
        description="From the X developer portal: your app, 'Keys and tokens', OAuth 2.0 "
                    "Client ID. Needed to connect the X account for replies.")
    x_client_secret: SecretStr | None = Field(
        None, title="X: OAuth 2.0 client secret",
        description="Only for a confidential client (App type 'Web App'); a public client "
                    "(App type 'Native App') has none.")
    x_reply_token: SecretStr | None = Field(
        None, title="X: user-context OAuth 2 token (pasted)",
        description="Only when the X account is not connected below: a token pasted here "
                    "expires after two hours and is not refreshed.")
    x_replies: bool = Field(False, title="X: reply with the thread's link",
                            description="Off by default: X charges for every post.")
    x_monthly_cap_cents: int = Field(
        0, ge=0, title="X: monthly spending cap (cents)",
        description="Replies stop when this month's spend would pass the cap.")
    x_price_per_post_cents: int = Field(
        1, ge=0, title="X: price per post (cents)",
        description="What X charges for one post on your plan.")
    x_api_url: str = Field("https://api.x.com", title="X: API URL")
    x_authorize_url: str = Field("https://x.com/i/oauth2/authorize",
                                 title="X: OAuth 2.0 authorize URL")
    mastodon_instance_url: str = Field(
        "", title="Mastodon: instance URL",
        description="Where the project's account lives, e.g. https://fosstodon.org.")
    mastodon_access_token: SecretStr | None = Field(
        None, title="Mastodon: access token",
        description="Preferences, Development, New application with the scopes "
                    "read:notifications and write:statuses; copy 'Your access token'.")
    mastodon_replies: bool = Field(False, title="Mastodon: reply with the thread's link")
    bluesky_service_url: str = Field(
        "https://bsky.social", title="Bluesky: PDS URL",
        description="The account's PDS (https://bsky.social for most accounts).")
    bluesky_handle: str = Field("", max_length=253, title="Bluesky: handle",
                                description="e.g. yourproject.bsky.social")
    bluesky_app_password: SecretStr | None = Field(
        None, title="Bluesky: app password",
        description="Settings, Privacy and security, App passwords: add one (never your "
                    "account password).")
    bluesky_replies: bool = Field(False, title="Bluesky: reply with the thread's link")

    @field_validator("x_api_url", "x_authorize_url", "mastodon_instance_url",
                     "bluesky_service_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError("must be an http(s) URL")
        return value

    @field_serializer(*SECRETS, when_used="json")
    def _stored_secret(self, value: SecretStr | None) -> str | None:
        # Stored in the project's plugin settings; the form never shows them back.
        return value.get_secret_value() if value else None

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else ""

    def configured(self) -> list[str]:
        """The networks whose credentials are set."""
        found = []
        if self.secret("x_bearer_token") and (self.x_search_query or self.x_user_id):
            found.append("x")
        if self.mastodon_instance_url and self.secret("mastodon_access_token"):
            found.append("mastodon")
        if self.bluesky_handle and self.secret("bluesky_app_password"):
            found.append("bluesky")
        return found

    def replies_on(self, source: str) -> bool:
        return bool(getattr(self, f"{source}_replies", False))


@dataclass(frozen=True)
class Mention:
    """One post that mentions the project (or answers one of its threads), as plain text."""

    source: str  # "x", "mastodon" or "bluesky"
    external_id: str
    conversation_id: str | None  # the thread at the source, when it says so
    parent_id: str | None  # the post this one answers
    author_id: str
    author_handle: str
    author_name: str
    author_url: str
    text: str
    created_at: datetime
    url: str
    reply_ref: dict[str, Any] = field(default_factory=dict)  # what a reply needs (Bluesky)


@dataclass(frozen=True)
class RateLimit:
    """What the last response said about the rate limit; ``None`` when it said nothing."""

    remaining: int | None = None
    reset_at: datetime | None = None

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


@dataclass(frozen=True)
class MentionPage:
    """Mentions newer than the cursor (oldest first), the cursor to store, the rate limit."""

    mentions: list[Mention]
    cursor: str | None
    rate: RateLimit = RateLimit()
    skipped: int = 0  # entries that were deleted or malformed


class SourceError(Exception):
    """A source could not be read or written; ``reason`` is shown to project leads."""

    def __init__(self, reason: str, rate: RateLimit | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.rate = rate or RateLimit()


class AuthFailed(SourceError):
    """401/403: the token expired or was revoked, or the address set is refused (a private
    host). The source is marked failing."""


class RateLimited(SourceError):
    """429: wait until ``rate.reset_at``."""


class Transient(SourceError):
    """A network error or a 5xx: the job is retried with backoff. ``maybe_sent``: the
    request may have reached the server (a timeout, a dropped connection), so a post
    without an idempotency key is not sent again."""

    def __init__(self, reason: str, rate: RateLimit | None = None, *,
                 maybe_sent: bool = False) -> None:
        super().__init__(reason, rate)
        self.maybe_sent = maybe_sent


class Malformed(SourceError):
    """The response was not what the documentation describes: logged, nothing imported."""


class MentionSource(Protocol):
    name: str

    async def fetch(self, cursor: str | None) -> MentionPage:
        """Mentions after ``cursor`` (``None``: the first poll), oldest first."""

    async def reply(self, mention: Mention, text: str, idempotency_key: str) -> str:
        """Answer ``mention`` with ``text``; returns the id of the new post."""


# Helpers the adapters share.


def header_int(headers: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                return int(float(value.strip()))
            except ValueError:
                return None
    return None


def reset_time(value: str | None, now: datetime) -> datetime | None:
    """A reset header: epoch seconds, seconds from now (small numbers) or an ISO time."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if number > 1_000_000_000:  # epoch seconds
        return datetime.fromtimestamp(number, UTC)
    return now + timedelta(seconds=max(0.0, number))


def rate_limit(headers: Mapping[str, str], prefix: str) -> RateLimit:
    """``prefix``-Remaining and ``prefix``-Reset (header names are case-insensitive)."""
    now = datetime.now(UTC)
    return RateLimit(remaining=header_int(headers, f"{prefix}-remaining"),
                     reset_at=reset_time(headers.get(f"{prefix}-reset"), now))


def check_response(response: httpx.Response, rate: RateLimit, network: str) -> Any:
    """The JSON body of a successful response, or the matching ``SourceError``."""
    status = response.status_code
    if status == 429:
        raise RateLimited(f"{network} rate limit reached (429)", rate)
    if status in (401, 403):
        raise AuthFailed(f"{network} refused the credentials ({status}): "
                         f"{short_error(response)}", rate)
    if status >= 500:
        raise Transient(f"{network} answered {status}", rate)
    if status >= 400:
        raise Malformed(f"{network} answered {status}: {short_error(response)}", rate)
    try:
        return response.json()
    except ValueError:
        raise Malformed(f"{network} sent a response that is not JSON", rate) from None


def short_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, dict):
        for key in ("error_description", "detail", "message", "error", "title"):
            if isinstance(body.get(key), str):
                return str(body[key])[:200]
    return response.reason_phrase or "error"


async def send(client: httpx.AsyncClient, request: httpx.Request, network: str) -> httpx.Response:
    try:
        return await client.send(request)
    except PrivateAddressRefused as exc:
        raise AuthFailed(f"{network}: {exc}") from None
    except httpx.HTTPError as exc:
        never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        raise Transient(f"{network} could not be reached: {type(exc).__name__}",
                        maybe_sent=not never_sent) from None


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def dict_of(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


class _TextExtractor(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BREAKS and self.parts:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        elif tag == "p":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Mastodon's status HTML as plain text: tags dropped, entities decoded, no markup
    kept (the text is quoted into a post, where it is cooked like any user text)."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # never let a hostile status break a poll
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return "\n".join(line for line in lines if line).strip()


def newer(a: str, b: str | None) -> bool:
    """Whether numeric id ``a`` (X, Mastodon: snowflakes as strings) is after ``b``."""
    if b is None:
        return True
    if a.isdigit() and b.isdigit():
        return int(a) > int(b)
    return a > b
