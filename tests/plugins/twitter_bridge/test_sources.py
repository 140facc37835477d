"""The three adapters against their fakes: the exact requests, cursors, pagination, rate
limits, and what they make of deleted, private, partial and malformed entries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugins.twitter_bridge.bluesky import BlueskySource, link_facet
from plugins.twitter_bridge.mastodon import MastodonSource, next_max_id
from plugins.twitter_bridge.sources import (
    AuthFailed,
    Malformed,
    Mention,
    RateLimited,
    Transient,
    html_to_text,
    reset_time,
)
from plugins.twitter_bridge.x import XSource
from tests.plugins.twitter_bridge.fakes import (
    BLUESKY_DID,
    BLUESKY_HANDLE,
    BLUESKY_PASSWORD,
    MASTODON_TOKEN,
    X_BEARER,
    X_USER_TOKEN,
    FakeBluesky,
    FakeMastodon,
    FakeX,
    account,
    bsky_notification,
    notification,
    tweet,
)

# X


def x_source(fake: FakeX, bearer: str = X_BEARER) -> XSource:
    return XSource(bearer_token=bearer, query="@forum", reply_token=X_USER_TOKEN,
                   api_url=fake.url)


async def test_x_search_sends_since_id_expansions_and_the_bearer_token(fake_x: FakeX) -> None:
    fake_x.add_user("11", "ada", "Ada L")
    fake_x.tweets = [tweet(101, "hello @forum", "11"), tweet(105, "again @forum", "11")]
    page = await x_source(fake_x).fetch(None)
    assert [m.external_id for m in page.mentions] == ["101", "105"]  # oldest first
    assert page.cursor == "105"
    first = fake_x.requests[0]
    assert first.path == "/2/tweets/search/recent"
    assert first.headers["authorization"] == f"Bearer {X_BEARER}"
    assert first.param("query") == "@forum"
    assert first.param("since_id") is None
    assert first.param("expansions") == "author_id"
    assert first.param("tweet.fields") == "conversation_id,created_at,referenced_tweets,author_id"
    mention = page.mentions[0]
    assert (mention.author_handle, mention.author_name) == ("ada", "Ada L")
    assert mention.url == "https://x.com/ada/status/101"
    assert mention.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert page.rate.remaining == 449

    fake_x.tweets.append(tweet(110, "third", "11", conversation=101, replied_to=101))
    page = await x_source(fake_x).fetch("105")
    assert fake_x.requests[-1].param("since_id") == "105"
    assert [m.external_id for m in page.mentions] == ["110"]
    assert page.mentions[0].conversation_id == "101"
    assert page.mentions[0].parent_id == "101"


async def test_x_mentions_timeline_pages_with_pagination_token(fake_x: FakeX) -> None:
    fake_x.add_user("11", "ada", "Ada")
    fake_x.tweets = [tweet(100 + n, f"t{n}", "11") for n in range(5)]
    fake_x.page_size = 2
    page = await XSource(bearer_token=X_BEARER, user_id="42", api_url=fake_x.url).fetch("99")
    assert [m.external_id for m in page.mentions] == ["100", "101", "102", "103", "104"]
    assert page.cursor == "104"
    assert [r.path for r in fake_x.requests] == ["/2/users/42/mentions"] * 3
    assert [r.param("pagination_token") for r in fake_x.requests] == [None, "2", "4"]
    assert all(r.param("since_id") == "99" for r in fake_x.requests)
    first = await XSource(bearer_token=X_BEARER, user_id="42", api_url=fake_x.url).fetch(None)
    assert [m.external_id for m in first.mentions] == ["103", "104"]  # one page at first
    assert first.cursor == "104"


async def test_x_skips_tweets_without_author_or_text(fake_x: FakeX) -> None:
    fake_x.add_user("11", "ada", "Ada")
    fake_x.tweets = [tweet(101, "fine", "11"), tweet(102, "", "11"), tweet(103, "who?", "99")]
    page = await x_source(fake_x).fetch(None)
    assert [m.external_id for m in page.mentions] == ["101"]
    assert page.skipped == 2
    assert page.cursor == "103"  # the skipped ones are behind the cursor too


async def test_x_errors(fake_x: FakeX) -> None:
    with pytest.raises(AuthFailed, match="401"):
        await x_source(fake_x, bearer="expired").fetch(None)
    fake_x.fail_next(429, {"title": "Too Many Requests"},
                     {"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1795000000"})
    with pytest.raises(RateLimited) as limited:
        await x_source(fake_x).fetch(None)
    assert limited.value.rate.reset_at == datetime.fromtimestamp(1795000000, UTC)
    fake_x.fail_next(503, "upstream down")
    with pytest.raises(Transient):
        await x_source(fake_x).fetch(None)
    fake_x.fail_next(200, "<html>not json</html>")
    with pytest.raises(Malformed):
        await x_source(fake_x).fetch(None)
    fake_x.fail_next(200, ["a", "list"])
    with pytest.raises(Malformed):
        await x_source(fake_x).fetch(None)


async def test_x_reply_posts_in_reply_to_with_the_user_token(fake_x: FakeX) -> None:
    mention = Mention("x", "101", "101", None, "11", "ada", "Ada", "", "hi",
                      datetime.now(UTC), "")
    new_id = await x_source(fake_x).reply(mention, "See https://f/t/1", "key")
    assert new_id.isdigit()
    request = fake_x.of("/2/tweets", "POST")[0]
    assert request.headers["authorization"] == f"Bearer {X_USER_TOKEN}"
    assert request.body == {"text": "See https://f/t/1",
                            "reply": {"in_reply_to_tweet_id": "101"}}


async def test_x_unreachable_is_transient() -> None:
    source = XSource(bearer_token=X_BEARER, query="q", api_url="http://127.0.0.1:9")
    with pytest.raises(Transient):
        await source.fetch(None)


# Mastodon


def mastodon(fake: FakeMastodon, token: str = MASTODON_TOKEN) -> MastodonSource:
    return MastodonSource(instance_url=fake.url, access_token=token)


async def test_mastodon_requests_mentions_since_id_and_strips_html(
        fake_mastodon: FakeMastodon) -> None:
    ada = account("7", "ada@social.example", "Ada")
    fake_mastodon.notifications = [
        notification(50, 500, ada, '<p>Hi <span class="h-card"><a href="https://x/@forum" '
                                   'class="u-url mention">@<span>forum</span></a></span> '
                                   '&amp; thanks!<br>2nd line<script>alert(1)</script></p>'),
        notification(51, 501, ada, "<p>private</p>", visibility="direct"),
        notification(52, 502, ada, "", deleted=True),
        notification(53, 503, ada, "<p>public again</p>", in_reply_to=9001),
    ]
    page = await mastodon(fake_mastodon).fetch("40")
    request = fake_mastodon.requests[0]
    assert request.path == "/api/v1/notifications"
    assert request.headers["authorization"] == f"Bearer {MASTODON_TOKEN}"
    assert ("types[]", "mention") in request.params
    assert request.param("since_id") == "40"
    assert [m.external_id for m in page.mentions] == ["500", "503"]
    assert page.mentions[0].text == "Hi @forum & thanks!\n2nd line"
    assert page.mentions[1].parent_id == "9001"
    assert page.skipped == 2  # the direct one and the deleted one
    assert page.cursor == "53"
    assert page.rate.remaining == 299
    assert page.rate.reset_at == datetime(2026, 11, 20, 10, 5, tzinfo=UTC)


async def test_mastodon_follows_the_link_header_for_older_pages(
        fake_mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch) -> None:
    from plugins.twitter_bridge import mastodon as module

    monkeypatch.setattr(module, "PAGE_SIZE", 2)
    ada = account("7", "ada")
    fake_mastodon.notifications = [notification(n, 100 + n, ada, f"<p>m{n}</p>")
                                   for n in range(1, 6)]
    page = await mastodon(fake_mastodon).fetch("0")
    assert [m.external_id for m in page.mentions] == ["101", "102", "103", "104", "105"]
    assert [r.param("max_id") for r in fake_mastodon.requests] == [None, "4", "2"]
    assert all(r.param("since_id") == "0" for r in fake_mastodon.requests)
    assert page.cursor == "5"
    first = await mastodon(fake_mastodon).fetch(None)  # a first poll takes one page
    assert [m.external_id for m in first.mentions] == ["104", "105"]
    assert first.cursor == "5"


async def test_mastodon_errors_and_idempotent_reply(fake_mastodon: FakeMastodon) -> None:
    with pytest.raises(AuthFailed, match="The access token is invalid"):
        await mastodon(fake_mastodon, "revoked").fetch(None)
    fake_mastodon.fail_next(429, {"error": "Too many requests"},
                            {"x-ratelimit-remaining": "0",
                             "x-ratelimit-reset": "2030-01-01T00:00:00.000Z"})
    with pytest.raises(RateLimited) as limited:
        await mastodon(fake_mastodon).fetch(None)
    assert limited.value.rate.reset_at == datetime(2030, 1, 1, tzinfo=UTC)
    fake_mastodon.fail_next(200, {"not": "a list"})
    with pytest.raises(Malformed):
        await mastodon(fake_mastodon).fetch(None)

    mention = Mention("mastodon", "500", None, None, "7", "ada@social.example", "Ada", "",
                      "hi", datetime.now(UTC), "", reply_ref={"visibility": "unlisted"})
    first = await mastodon(fake_mastodon).reply(mention, "Thread: https://f/t/1", "key-1")
    again = await mastodon(fake_mastodon).reply(mention, "Thread: https://f/t/1", "key-1")
    assert first == again
    posts = fake_mastodon.of("/api/v1/statuses", "POST")
    assert [p.headers["idempotency-key"] for p in posts] == ["key-1", "key-1"]
    assert posts[0].body == {"status": "@ada@social.example Thread: https://f/t/1",
                             "in_reply_to_id": "500", "visibility": "unlisted"}


def test_next_max_id_and_html_to_text() -> None:
    link = ('<https://m.example/api/v1/notifications?max_id=34975535&types[]=mention>; '
            'rel="next", <https://m.example/api/v1/notifications?min_id=34975861>; rel="prev"')
    assert next_max_id(link) == "34975535"
    assert next_max_id("") is None
    assert html_to_text("<p>a &lt;b&gt;</p><p>c</p>") == "a <b>\nc"
    assert html_to_text("<p>unclosed <b>bold") == "unclosed bold"


def test_reset_time_reads_epoch_delta_and_iso() -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    assert reset_time("1795000000", now) == datetime.fromtimestamp(1795000000, UTC)
    assert reset_time("30", now) == datetime(2026, 11, 20, 0, 0, 30, tzinfo=UTC)
    assert reset_time("2026-11-20T01:00:00Z", now) == datetime(2026, 11, 20, 1, tzinfo=UTC)
    assert reset_time("soon", now) is None


# Bluesky


def bluesky(fake: FakeBluesky, password: str = BLUESKY_PASSWORD) -> BlueskySource:
    return BlueskySource(service_url=fake.url, handle=BLUESKY_HANDLE, app_password=password)


async def test_bluesky_signs_in_and_lists_mentions_and_replies(
        fake_bluesky: FakeBluesky) -> None:
    root = ("at://did:plc:forumproject/app.bsky.feed.post/3root", "bafyroot")
    fake_bluesky.notifications = [
        bsky_notification(4, "cy.bsky.social", "a reply", reason="reply", root=root,
                          parent=root),
        bsky_notification(3, "bo.bsky.social", "liked", reason="like"),
        bsky_notification(2, "bo.bsky.social", "gone", record=False),
        bsky_notification(1, "ada.bsky.social", "hi @forum.bsky.social"),
    ]
    page = await bluesky(fake_bluesky).fetch(None)
    session, listing = fake_bluesky.requests[:2]
    assert session.path == "/xrpc/com.atproto.server.createSession"
    assert session.body == {"identifier": BLUESKY_HANDLE, "password": BLUESKY_PASSWORD}
    assert listing.path == "/xrpc/app.bsky.notification.listNotifications"
    assert listing.headers["authorization"] == "Bearer bsky-access-jwt-1"
    assert [m.text for m in page.mentions] == ["hi @forum.bsky.social", "a reply"]
    ada, cy = page.mentions
    assert ada.url == "https://bsky.app/profile/ada.bsky.social/post/3k000001"
    assert ada.conversation_id == ada.external_id
    assert ada.reply_ref["root"] == ada.reply_ref["parent"] == {
        "uri": ada.external_id, "cid": "bafyreicid000001"}
    assert cy.conversation_id == root[0]
    assert cy.parent_id == root[0]
    assert cy.reply_ref["root"] == {"uri": root[0], "cid": root[1]}
    assert page.skipped == 1
    assert page.cursor == "2026-11-20T10:04:00.000Z"
    assert page.rate.remaining == 2999


async def test_bluesky_pages_back_to_the_stored_cursor_only(fake_bluesky: FakeBluesky) -> None:
    fake_bluesky.page_size = 2
    fake_bluesky.notifications = [bsky_notification(n, "ada.bsky.social", f"m{n}")
                                  for n in range(6, 0, -1)]
    page = await bluesky(fake_bluesky).fetch("2026-11-20T10:02:00.000Z")
    assert [m.text for m in page.mentions] == ["m3", "m4", "m5", "m6"]
    listings = fake_bluesky.of("/xrpc/app.bsky.notification.listNotifications")
    assert [r.param("cursor") for r in listings] == [None, "2", "4"]  # m2 is seen: stop
    assert page.cursor == "2026-11-20T10:06:00.000Z"


async def test_bluesky_reuses_its_session_and_signs_in_again_when_it_expires(
        fake_bluesky: FakeBluesky) -> None:
    fake_bluesky.notifications = [bsky_notification(1, "ada.bsky.social", "hi")]
    await bluesky(fake_bluesky).fetch(None)
    await bluesky(fake_bluesky).fetch(None)
    sessions = "/xrpc/com.atproto.server.createSession"
    assert len(fake_bluesky.of(sessions, "POST")) == 1  # createSession has a tight limit
    fake_bluesky.expire_token()
    page = await bluesky(fake_bluesky).fetch(None)
    assert [m.text for m in page.mentions] == ["hi"]
    assert len(fake_bluesky.of(sessions, "POST")) == 2
    listings = fake_bluesky.of("/xrpc/app.bsky.notification.listNotifications")
    assert [r.headers["authorization"] for r in listings[-2:]] == [
        "Bearer bsky-access-jwt-1", "Bearer bsky-access-jwt-3"]


async def test_bluesky_bad_app_password(fake_bluesky: FakeBluesky) -> None:
    with pytest.raises(AuthFailed, match="Invalid identifier or password"):
        await bluesky(fake_bluesky, "wrong").fetch(None)


async def test_bluesky_reply_has_strong_refs_and_a_utf8_link_facet(
        fake_bluesky: FakeBluesky) -> None:
    link = "https://forum.example/p/x/t/7"
    text = f"Merci ! Déjà vu 👋 → {link}"
    root = {"uri": "at://did:plc:a/app.bsky.feed.post/root", "cid": "cidroot"}
    parent = {"uri": "at://did:plc:b/app.bsky.feed.post/parent", "cid": "cidparent"}
    mention = Mention("bluesky", parent["uri"], root["uri"], root["uri"], "did:plc:b", "bo",
                      "Bo", "", "hi", datetime.now(UTC), "",
                      reply_ref={"root": root, "parent": parent, "link": link})
    uri = await bluesky(fake_bluesky).reply(mention, text, "unused")
    assert uri.startswith(f"at://{BLUESKY_DID}/")
    body = fake_bluesky.of("/xrpc/com.atproto.repo.createRecord", "POST")[0].body
    assert body["repo"] == BLUESKY_DID
    assert body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == text
    assert record["reply"] == {"root": root, "parent": parent}
    start = len("Merci ! Déjà vu 👋 → ".encode())
    assert start == 27  # characters would say 20: é, à are 2 bytes, 👋 4 and → 3
    assert record["facets"] == [{
        "index": {"byteStart": start, "byteEnd": start + len(link)},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}]}]
    assert text.encode()[start:start + len(link)].decode() == link


def test_link_facet_without_the_link() -> None:
    assert link_facet("no link here", "https://a.example") == []
